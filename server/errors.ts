/** The error type and body live in contracts/ (the worker and the browser share them); the server uses them from here. */
export { AppError, badRequest, errorBody, notFound, type ErrorBody, type ErrorCode, type ErrorStatus } from "../contracts/errors.js";
