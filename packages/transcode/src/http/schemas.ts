import { Type, type Static } from '@sinclair/typebox';

// The bodies of the video routes, as TypeBox schemas with their TypeScript types. The console
// imports the types (type-only, `@herald/transcode/schemas`), so a change here that it does not
// follow fails its type-check.

export const Output = Type.Object({ format_type: Type.String(), file_size: Type.Integer() });
export const VideoBody = Type.Object({
  id: Type.Integer(),
  title: Type.String(),
  duration: Type.Number(),
  width: Type.Integer(),
  height: Type.Integer(),
  size: Type.Integer(),
  created_at: Type.String(),
  status: Type.String({ description: 'uploaded | queued | processing | retrying | completed | failed | cancelled' }),
  progress: Type.Integer({ minimum: 0, maximum: 100 }),
  message: Type.String(),
  job_id: Type.Union([Type.String(), Type.Null()]),
  formats: Type.Array(Type.String()),
  outputs: Type.Array(Output),
  error: Type.Union([Type.String(), Type.Null()]),
});
export const StatusBody = Type.Object({
  video_id: Type.Integer(),
  job_id: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  progress: Type.Integer(),
  message: Type.String(),
  formats: Type.Array(Type.String()),
  outputs: Type.Array(Output),
  error: Type.Union([Type.String(), Type.Null()]),
});
export const Preset = Type.Object({ name: Type.String(), label: Type.String(), available: Type.Boolean() });
export const PresetsBody = Type.Object({ presets: Type.Array(Preset) });

export type OutputT = Static<typeof Output>;
export type VideoBodyT = Static<typeof VideoBody>;
export type StatusBodyT = Static<typeof StatusBody>;
export type PresetT = Static<typeof Preset>;
