import { z } from 'zod';

export const FieldErrorSchema = z
  .strictObject({
    path: z
      .string()
      .meta({
        description: 'The offending field, dotted for nested ones (`jobs.3.input.ms`); empty for the body as a whole',
      }),
    message: z.string(),
  })
  .meta({ id: 'FieldError' });

/** RFC 9457 problem document, `Content-Type: application/problem+json`. */
export const ProblemSchema = z
  .strictObject({
    type: z.string().meta({ description: 'A URI naming the kind of problem' }),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string().meta({ description: 'A human sentence' }),
    errors: z.array(FieldErrorSchema).optional().meta({ description: 'On validation failures: every offending field' }),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem document' });
export type Problem = z.infer<typeof ProblemSchema>;
