import type { FastifyReply } from 'fastify';
import { ERROR_CODES, type ErrorCode } from '../errors.js';

/** Sends the API's JSON error shape `{error, message}`. */
export function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).type('application/json').send({ error: code, message });
}

/** Sends `code` with its status from the error table (`{error: code in lower case, message}`). */
export function sendCode(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  return sendError(reply, ERROR_CODES[code], code.toLowerCase(), message);
}
