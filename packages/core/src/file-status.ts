/**
 * The file processing state machine (SPEC F10): pending → parsing → embedding → completed, or error from any
 * non-terminal status. Like job statuses, every write is a guarded compare-and-set on the allowed predecessors,
 * so a late writer (a timed-out attempt, a sweep racing a worker) loses instead of overwriting a terminal status.
 */
export const FILE_STATUSES = ['pending', 'parsing', 'embedding', 'completed', 'error'] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];

export const TERMINAL_FILE_STATUSES: readonly FileStatus[] = ['completed', 'error'];
export const ACTIVE_FILE_STATUSES: readonly FileStatus[] = ['pending', 'parsing', 'embedding'];

/**
 * Predecessors of each status. `parsing` is also entered again from `parsing`/`embedding`: a new attempt of the
 * processing job (a retry, or a worker killed mid-way) starts the pipeline over, replacing the earlier chunks.
 */
const FROM: Record<FileStatus, readonly FileStatus[]> = {
  pending: [],
  parsing: ['pending', 'parsing', 'embedding'],
  embedding: ['parsing'],
  completed: ['embedding'],
  error: ACTIVE_FILE_STATUSES,
};

export function isTerminalFileStatus(s: FileStatus): boolean {
  return TERMINAL_FILE_STATUSES.includes(s);
}

export function fileStatusesBefore(to: FileStatus): readonly FileStatus[] {
  return FROM[to];
}

export function canMoveFile(from: FileStatus, to: FileStatus): boolean {
  return FROM[to].includes(from);
}

/** The timeout message with its `{}` replaced by the minutes, as the seed's `str.format` does. */
export function fileTimeoutMessage(template: string, minutes: number): string {
  return template.replaceAll('{}', String(minutes));
}
