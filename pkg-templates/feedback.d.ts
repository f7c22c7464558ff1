/**
 * `edgetrace/feedback`: assessments of traces in MLflow (a user's thumbs up, a rating, a judge's
 * verdict), as MLflow's Python `mlflow.log_feedback` logs them. A module of its own, so that the
 * up-front browser entry does not carry it.
 *
 * ```ts
 * import { getLastActiveTraceId } from 'edgetrace';
 * import { logFeedback } from 'edgetrace/feedback';
 * const traceId = getLastActiveTraceId(); // when the answer is shown
 * // … later, when the user clicks 👍
 * const r = await logFeedback({ traceId, name: 'user_feedback', value: true, source: { type: 'HUMAN', id: userId } });
 * if ('error' in r) showToast("Feedback wasn't saved");
 * ```
 */

/** Who gave the assessment, as MLflow's `AssessmentSource` has it. */
export interface FeedbackSource {
  /** Default `'HUMAN'`. */
  type?: 'HUMAN' | 'LLM_JUDGE' | 'CODE';
  /** Who: a user id, a judge's name. Default `'default'`. */
  id?: string;
}

/** An assessment of a trace (MLflow's `Feedback`). */
export interface Feedback {
  /** The trace: `tr-` and 32 hex digits (as `getLastActiveTraceId()` gives it) or the 32 hex digits. Default: the last trace started here. */
  traceId?: string;
  /** The assessment's name, at most 250 characters. Default `'feedback'`. */
  name?: string;
  /** The verdict: a boolean (thumbs up or down), a number (a rating), a string, or JSON (an array or object). */
  value: boolean | number | string | null | unknown[] | Record<string, unknown>;
  /** Why: a user's comment, a judge's reasoning. */
  rationale?: string;
  /** Default `{ type: 'HUMAN', id: 'default' }`; a string is taken as the type. */
  source?: FeedbackSource | FeedbackSource['type'];
  /** More about it, as strings (other values are written as JSON). */
  metadata?: Record<string, unknown>;
  /** A span of the trace it is about (16 hex digits, `span.spanId`), rather than the whole trace. */
  spanId?: string;
  /** The longest the call takes, flush and retries included, in ms. Default 15,000. */
  timeoutMs?: number;
}

/** `{ assessmentId }` as MLflow gave it, or `{ error }` saying why it was not logged. */
export type FeedbackResult = { assessmentId: string } | { error: string };

/**
 * Logs `feedback` on its trace in MLflow, at `init()`'s endpoint: MLflow, or the edgetrace ingest
 * service (which checks that the trace is in its key's experiment). Queued spans are flushed
 * first. While MLflow does not have the trace yet (404), is busy or down (429, 503), or the
 * connection fails, it is tried again, all within `timeoutMs` (15 s). Not after a timeout, a 500,
 * 502 or 504, after which MLflow may have stored it: a second post would store it twice. The last trace
 * started here, left out by sampling, is an error at once. Never rejects: a bad argument or a
 * refusal resolves `{ error }`, also warned about.
 */
export declare function logFeedback(feedback: Feedback): Promise<FeedbackResult>;
