import type { DebriefView, ProgressView } from "../../../contracts/practice";
import { request, type Json } from "../api/client";

export type Debrief = Json<DebriefView>;
export type Progress = Json<ProgressView>;

const session = (id: string) => `/api/sessions/${encodeURIComponent(id)}`;

/** Practice: hints, debriefs and progress. */
export const practice = {
  hint: (sessionId: string) => request<{ hint: string }>(`${session(sessionId)}/hint`, { method: "POST", body: "{}" }),
  debrief: (sessionId: string) => request<{ debrief: Debrief }>(`${session(sessionId)}/debrief`, { method: "POST", body: "{}" }),
  debriefs: (sessionId: string) => request<{ debriefs: Debrief[] }>(`${session(sessionId)}/debriefs`),
  progress: (slug: string) => request<{ progress: Progress }>(`/api/scenarios/${encodeURIComponent(slug)}/progress`),
};
