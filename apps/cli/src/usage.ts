/** Thrown for a wrong command line: the CLI prints the message and the usage, and exits 2. */
export class UsageError extends Error {}

export const USAGE = `jobs: command line for the job service

Environment: JOBS_API_KEY (required), JOBS_API_URL (default http://127.0.0.1:8283)

  jobs create <task> [--input JSON] [--metadata JSON] [--priority N] [--delay-ms N] [--timeout-ms N]
                     [--max-attempts N] [--callback-url URL] [--idempotency-key KEY]
                     [--concurrency-key KEY --concurrency-limit N] [--watch]
  jobs get <job-id>
  jobs watch <job-id>                 live progress bar until the job ends (exit 1 unless completed)
  jobs list [--status S]... [--task T] [--limit N] [--active] [--organization ID]
  jobs cancel <job-id>
  jobs retry <job-id> [--watch]
  jobs sources create <name>          prints the source id
  jobs sources list
  jobs upload <source-id> <path> [--watch]   upload a file; --watch follows its processing (exit 1 unless completed)
  jobs run --model M --message TEXT [--max-tokens N] [--system TEXT] [--max-attempts N] [--timeout-ms N]
           [--watch]                  an anthropic.message run; --watch prints the reply when it ends
  jobs messages <run-id> [--order asc|desc] [--limit N]   a run's messages, in conversation order
  jobs orgs create <name>                                   (operator)
  jobs orgs set <org-id> [--weight N] [--max-concurrency N|none]   fair share (operator)
  jobs users create --organization ID --name NAME           (admin)
  jobs keys create --user ID --role member|admin|operator   (admin; prints the key once)
  jobs keys list [--organization ID]
  jobs keys revoke <key-id>

Add --json to any command for the raw JSON answer.
`;
