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
