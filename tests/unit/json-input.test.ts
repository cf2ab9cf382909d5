import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseJson } from "../../contracts/json-input.js";

/** How every API reads a JSON body: NUL refused wherever JSON can put one, and only there. */
describe("parseJson", () => {
  const anything = z.unknown();
  const refused = (text: string) => {
    try {
      parseJson(text, anything);
    } catch (err) {
      return err as { code: string; message: string };
    }
    throw new Error(`${text} was taken`);
  };

  it("refuses a NUL in a value or a key, at any depth, naming where", () => {
    expect(refused('{"messages":[{"content":"hi\\u0000there"}]}')).toMatchObject({ code: "invalid_characters", message: expect.stringMatching(/^messages\.0\.content: /) });
    expect(refused('{"a":{"k\\u0000":1}}')).toMatchObject({ code: "invalid_characters", message: expect.stringMatching(/^a: /) });
    expect(refused('"\\u0000"')).toMatchObject({ code: "invalid_characters" });
  });

  it("takes a backslash followed by u0000 as the text it is, and a raw NUL is not JSON", () => {
    // The JSON text \\u0000 is a backslash and "u0000", not a NUL: it is stored as written.
    expect(parseJson('{"content":"C:\\\\u0000.txt"}', anything)).toEqual({ content: "C:\\u0000.txt" });
    expect(refused('{"content":"a\u0000b"}')).toMatchObject({ code: "invalid_json" });
  });
});

/** What a 400 names when a value does not fit: the problem a person can act on, not zod's "Invalid input". */
describe("the problem named", () => {
  const named = (schema: z.ZodType, value: unknown) => {
    try {
      parseJson(JSON.stringify(value), schema);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error(`${JSON.stringify(value)} was taken`);
  };
  const part = z.discriminatedUnion("type", [z.object({ type: z.literal("text"), text: z.string() }), z.object({ type: z.literal("image_url"), image_url: z.object({ url: z.string() }) })], { error: "a content part is text or image_url" });
  const message = z.object({ content: z.union([z.string(), z.array(part)]) });

  it("says a body that is not an object is not one", () => {
    for (const value of [[], "x", 1, null]) expect(named(z.object({ a: z.string() }), value)).toBe("The request body must be a JSON object");
  });

  it("follows the union's branch that got furthest into the value", () => {
    expect(named(message, { content: [{ type: "text", text: 1 }] })).toBe("content.0.text: Invalid input: expected string, received number");
    expect(named(message, { content: [{ type: "text", text: "a" }, { type: "weird" }] })).toBe("content.1.type: a content part is text or image_url");
  });

  it("lists the types a union takes when the value is none of them", () => {
    expect(named(message, { content: 5 })).toBe("content: Invalid input: expected string or array");
  });
});
