import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import { ErrorCode } from '@herald/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TranscodeError } from '../errors.js';
import type { VideoService } from '../service.js';
import { PresetsBody, StatusBody, VideoBody } from './schemas.js';
import { httpStatusOf } from './status.js';

export interface VideoRouteDeps {
  videos: VideoService;
  /** preHandler that lets administrators through and refuses everyone else (the host's auth). */
  authorize: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** The signed-in uploader's id, once `authorize` passed. */
  userIdOf: (request: FastifyRequest) => number;
  maxUploadBytes: number;
}

const ErrorBody = Type.Object({ error: Type.String(), message: Type.String(), statusCode: Type.Integer() });
const errorResponses = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody, 503: ErrorBody };
const bearer = [{ bearerAuth: [] }];

// Ids beyond JavaScript's safe integers are a 400 naming `id`, not a store error (PostgreSQL: bigint overflow).
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });

/**
 * The videos API as a Fastify plugin (encapsulated: its error handler sees only these
 * routes). Transcode errors leave as `{ error, message, statusCode }` with the status from
 * `httpStatusOf`; anything else goes on to the host's error handler.
 */
export const videoRoutes: FastifyPluginAsyncTypebox<VideoRouteDeps> = async (app, { videos, authorize, userIdOf, maxUploadBytes }) => {
  await app.register(multipart, { limits: { fileSize: maxUploadBytes, files: 1, fields: 5, fieldSize: 1024 } });
  app.setErrorHandler((error, _request, reply) => {
    if (!(error instanceof TranscodeError)) throw error;
    const statusCode = httpStatusOf(error.code);
    return reply.status(statusCode).send({ error: error.code, message: error.message, statusCode });
  });

  app.get(
    '/api/v1/transcode/presets',
    {
      preHandler: authorize,
      schema: {
        tags: ['videos'],
        security: bearer,
        response: { 200: PresetsBody, ...errorResponses },
      },
    },
    async () => ({ presets: await videos.presets() }),
  );

  app.post(
    '/api/v1/videos',
    {
      preHandler: authorize,
      schema: {
        tags: ['videos'],
        summary: 'Upload a video (multipart/form-data: `title` then `file`; or ?title=). Checked with ffprobe.',
        security: bearer,
        consumes: ['multipart/form-data'],
        querystring: Type.Object({ title: Type.Optional(Type.String({ maxLength: 200 })) }),
        response: { 201: VideoBody, ...errorResponses, 413: errorResponses[400], 415: errorResponses[400], 422: errorResponses[400] },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw new TranscodeError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'send the video as multipart/form-data with a "file" field');
      const file = await request.file();
      if (!file || file.fieldname !== 'file') throw new TranscodeError(ErrorCode.VALIDATION, 'multipart body needs a "file" field');
      const titleField = file.fields.title;
      const fieldTitle = titleField && !Array.isArray(titleField) && titleField.type === 'field' ? String(titleField.value) : undefined;
      const video = await videos.upload(file.file, file.filename, request.query.title ?? fieldTitle, userIdOf(request));
      return reply.status(201).send(video);
    },
  );

  app.get(
    '/api/v1/videos',
    { preHandler: authorize, schema: { tags: ['videos'], security: bearer, response: { 200: Type.Object({ items: Type.Array(VideoBody) }), ...errorResponses } } },
    async () => ({ items: await videos.list() }),
  );

  app.get(
    '/api/v1/videos/:id',
    { preHandler: authorize, schema: { tags: ['videos'], security: bearer, params: IdParams, response: { 200: VideoBody, ...errorResponses } } },
    async (request) => videos.get(request.params.id),
  );

  app.post(
    '/api/v1/videos/:id/transcode',
    {
      preHandler: authorize,
      schema: {
        tags: ['videos'],
        summary: 'Start a transcode with named presets; an unknown or unavailable preset gets 400 listing the available ones',
        security: bearer,
        params: IdParams,
        body: Type.Object({ formats: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { minItems: 1, maxItems: 8 }) }, { additionalProperties: false }),
        response: { 202: Type.Object({ job_id: Type.String(), video_id: Type.Integer(), formats: Type.Array(Type.String()) }), ...errorResponses, 409: errorResponses[400] },
      },
    },
    async (request, reply) => reply.status(202).send(await videos.transcode(request.params.id, request.body.formats)),
  );

  app.post(
    '/api/v1/videos/:id/transcode/cancel',
    {
      preHandler: authorize,
      schema: { tags: ['videos'], security: bearer, params: IdParams, response: { 200: Type.Object({ cancelled: Type.Boolean() }), ...errorResponses } },
    },
    async (request) => videos.cancel(request.params.id),
  );

  app.get(
    '/api/v1/videos/:id/transcode-status',
    {
      preHandler: authorize,
      schema: {
        tags: ['videos'],
        summary: 'The polling endpoint TranscodeStatus falls back to; agrees with what was pushed',
        security: bearer,
        params: IdParams,
        response: { 200: StatusBody, ...errorResponses },
      },
    },
    async (request) => videos.status(request.params.id),
  );
};
