import { useEffect, useRef, useState } from 'react';

/**
 * Loads with `load` now and again every `everyMs` while the view is shown (a hidden tab skips its turns), keeping
 * the last good value beside the last error. A change of `key` starts over.
 */
export function usePoll<T>(
  load: (signal: AbortSignal) => Promise<T>,
  key: string,
  everyMs: number | null,
): { data: T | undefined; error: unknown; reload: () => void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    setData(undefined);
    setError(null);
  }, [key]);
  useEffect(() => {
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      if (document.visibilityState !== 'hidden') {
        try {
          const value = await loadRef.current(ac.signal);
          if (!ac.signal.aborted) {
            setData(value);
            setError(null);
          }
        } catch (err) {
          if (!ac.signal.aborted) setError(err);
        }
      }
      if (!ac.signal.aborted && everyMs !== null) timer = setTimeout(run, everyMs);
    };
    void run();
    return () => {
      ac.abort();
      clearTimeout(timer);
    };
  }, [key, everyMs, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}
