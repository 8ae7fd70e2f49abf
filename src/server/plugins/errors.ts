/**
 * One error shape for the whole API: `{ error: { code, message } }` with the status from
 * src/shared/errors.ts. Fastify's own errors map to stable codes with fixed messages (a JSON parser
 * message can quote the body); anything unexpected is a bare 500 INTERNAL.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { ChatroomError, ErrorCodes, type ErrorCode } from '../../shared/errors.ts';

/** Sends an API error with an explicit status (for the few routes whose status differs from the table). */
export function sendError(reply: FastifyReply, code: ErrorCode, status: number = ErrorCodes[code].status, message: string = ErrorCodes[code].message, details: Record<string, unknown> = {}): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ error: { ...details, code, message } });
}

/** Fixed messages for Fastify's request errors (by FST_ code). */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'The body is not valid JSON.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The body is empty but the content type says JSON.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Send the body as application/json.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length does not match the body.',
  FST_ERR_CTP_INVALID_TYPE: 'The Content-Type header is invalid.',
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is too large.',
};

function isChatroomError(err: unknown): err is ChatroomError {
  return err instanceof ChatroomError || (err instanceof Error && err.name === 'ChatroomError' && 'code' in err && typeof err.code === 'string' && err.code in ErrorCodes);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, _request, reply) => {
    if (isChatroomError(err)) {
      const retryAfter = err.details.retryAfterSeconds;
      if (typeof retryAfter === 'number') reply.header('Retry-After', String(retryAfter));
      return sendError(reply, err.code, err.status, err.message, err.details);
    }
    if (err.code === 'FST_ERR_VALIDATION') return sendError(reply, 'BAD_REQUEST', 400, err.message);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, 'BODY_TOO_LARGE', 413, FASTIFY_MESSAGES[err.code]);
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return sendError(reply, 'BAD_REQUEST', status, FASTIFY_MESSAGES[err.code] ?? ErrorCodes.BAD_REQUEST.message);
    }
    app.deps.log.event('http.internal_error');
    return sendError(reply, 'INTERNAL', 500);
  });

  app.setNotFoundHandler((request, reply) => {
    const message = request.url.startsWith('/api/') ? 'No such API route.' : 'Not found.';
    return sendError(reply, 'NOT_FOUND', 404, message);
  });
}
