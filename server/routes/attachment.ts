/**
 * `Content-Disposition` for a file to save: an ASCII fallback name for old clients (anything but
 * letters, digits, space, dot and dash becomes `_`), and the real name in UTF-8 beside it.
 */
export const attachment = (filename: string) =>
  `attachment; filename="${filename.replace(/[^\w .-]/g, "_")}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
