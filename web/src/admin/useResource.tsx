import { useCallback, useEffect, useState } from "react";
import { useApiError } from "./AdminApp";

/**
 * A tab's data: loaded on mount, loaded again after each change made through `act`, with one error
 * message for whatever failed last (a 401 sends the admin back to the login instead).
 */
export function useResource<T>(loader: () => Promise<T>) {
  const explain = useApiError();
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();

  const reload = useCallback(() => {
    loader().then(setData, (err) => setError(explain(err)));
    // The loader is a module-level API call; reloading follows only `explain`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [explain]);
  useEffect(reload, [reload]);

  const act = useCallback(
    async (action: () => Promise<unknown>) => {
      setError(undefined);
      try {
        await action();
        reload();
      } catch (err) {
        setError(explain(err));
      }
    },
    [explain, reload],
  );

  return { data, error, setError, reload, act, explain };
}

export function Alert({ message }: { message: string | undefined }) {
  return message ? (
    <p className="field-error" role="alert">
      {message}
    </p>
  ) : null;
}
