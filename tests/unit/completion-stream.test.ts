import { describe, expect, it } from "vitest";
import { chunk, completionStream } from "../../contracts/openai.js";

/** A token's chunk is filled into a template made once per stream: it must be the very JSON of the whole chunk. */
describe("the completion stream's token chunks", () => {
  const texts = ["w0 ", 'a "quoted" word', "back\\slash\nnew line\ttab", "ünïcödé 日本語 🙂", "\u2028\u2029", "\u0000text", '"\\u0000text"', ""];
  // An id or a model name holding the template's marker must not move where the text goes.
  const names: [string, string][] = [
    ["chatcmpl-abc", "anthropic/claude-3-haiku"],
    ["chatcmpl-\u0000text", 'odd/"\u0000text"'],
    ["\u0000text", "\u0000text"],
  ];

  it.each(names)("writes each token as JSON.stringify would (id %j, model %j)", async (id, model) => {
    const sent: string[] = [];
    const stream = completionStream((data) => void sent.push(data), id, 1764000000, model);
    for (const text of texts) await stream.delta(text);
    expect(sent).toEqual(texts.map((text) => JSON.stringify(chunk(id, 1764000000, model, { content: text }))));
    for (const [i, data] of sent.entries()) expect(JSON.parse(data).choices[0].delta.content).toBe(texts[i]);
  });

  it.each(names)("writes each reasoning token as JSON.stringify would (id %j, model %j)", async (id, model) => {
    const sent: string[] = [];
    const stream = completionStream((data) => void sent.push(data), id, 1764000000, model);
    for (const text of texts) await stream.reasoning(text);
    expect(sent).toEqual(texts.map((text) => JSON.stringify(chunk(id, 1764000000, model, { reasoning: text }))));
  });
});
