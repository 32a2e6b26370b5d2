// Runs the fake Anthropic API by itself: `npm run fake:anthropic` (FAKE_ANTHROPIC_PORT, default 4010;
// FAKE_ANTHROPIC_AUTO_END_MS, default 5000: batches end by themselves, outcomes from the custom_id prefix;
// FAKE_ANTHROPIC_STREAM_DELAY_MS, default 20, between streamed deltas; FAKE_ANTHROPIC_FIRST_DELTA_DELAY_MS, default 0,
// before the first one).
import { FakeAnthropic } from './anthropic-server';

const num = (name: string, def: number) => {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`Invalid ${name}: ${v}`);
    process.exit(1);
  }
  return n;
};

async function main(): Promise<void> {
  const fake = new FakeAnthropic({
    autoEndMs: num('FAKE_ANTHROPIC_AUTO_END_MS', 5000),
    cancelDelayMs: num('FAKE_ANTHROPIC_CANCEL_DELAY_MS', 1000),
    streamDelayMs: num('FAKE_ANTHROPIC_STREAM_DELAY_MS', 20),
    firstDeltaDelayMs: num('FAKE_ANTHROPIC_FIRST_DELTA_DELAY_MS', 0),
  });
  const url = await fake.start(num('FAKE_ANTHROPIC_PORT', 4010), process.env.FAKE_ANTHROPIC_HOST ?? '127.0.0.1');
  console.log(`fake Anthropic API on ${url}  (use ANTHROPIC_BASE_URL=${url} ANTHROPIC_API_KEY=anything)`);
  const stop = () => void fake.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`fake Anthropic failed to start: ${String(err)}`);
  process.exit(1);
});
