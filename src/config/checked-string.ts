/** A zod string checked by a function that names what is wrong with it. */
import { z } from 'zod';

/** A string that `problemOf` finds nothing wrong with (its answer is the issue's message). */
export const checkedString = (problemOf: (v: string) => string | undefined): z.ZodString =>
  z.string().superRefine((v, ctx) => {
    const problem = problemOf(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
