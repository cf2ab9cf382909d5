import type { Database } from "../client.js";
import { requestLog, type RequestLogInsert } from "../schema.js";

export async function insertRequestLog(db: Database, row: RequestLogInsert): Promise<void> {
  await db.insert(requestLog).values(row);
}
