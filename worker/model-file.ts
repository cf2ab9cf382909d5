import { open } from "node:fs/promises";

/** A model file the worker cannot use; the message is one line that names the file. */
export class ModelFileError extends Error {}

const GGUF_MAGIC = Buffer.from("GGUF", "ascii");

const REASONS: Record<string, string> = { ENOENT: "no such file", EACCES: "permission denied", EISDIR: "is a directory" };
const unreadable = (file: string, err: unknown) => {
  const code = (err as NodeJS.ErrnoException).code;
  return new ModelFileError(`cannot read model file ${file}: ${(code && REASONS[code]) ?? code ?? (err as Error).message}`);
};

/**
 * Checks the file before llama.cpp sees it: llama.cpp's own failures on a missing or foreign
 * file are multi-line native logs that do not say which setting to fix.
 */
export async function checkModelFile(file: string | undefined): Promise<string> {
  if (!file) throw new ModelFileError("no model file: set CHAT_WORKER_MODEL to the path of a .gguf file");
  let handle;
  try {
    handle = await open(file, "r");
  } catch (err) {
    throw unreadable(file, err);
  }
  try {
    const magic = Buffer.alloc(4);
    const { bytesRead } = await handle.read(magic, 0, 4, 0);
    if (bytesRead < 4 || !magic.equals(GGUF_MAGIC)) throw new ModelFileError(`model file ${file} is not a GGUF file`);
  } catch (err) {
    if (err instanceof ModelFileError) throw err;
    throw unreadable(file, err);
  } finally {
    await handle.close();
  }
  return file;
}
