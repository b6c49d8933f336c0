// Typed failures of the face pipeline: every refusal carries a machine-readable reason code.

export type FaceErrorReason =
  | 'not_an_image'
  | 'truncated_image'
  | 'image_too_large'
  | 'too_many_pixels'
  | 'no_face'
  | 'multiple_faces'
  | 'face_too_small'
  | 'blurry'
  | 'bad_pose'
  | 'bad_exposure';

export class FaceError extends Error {
  override readonly name = 'FaceError';

  constructor(
    readonly reason: FaceErrorReason,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

export function isFaceError(error: unknown): error is FaceError {
  return error instanceof FaceError;
}
