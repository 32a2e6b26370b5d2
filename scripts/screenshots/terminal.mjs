// Runs a command in a detached tmux session (its own server socket, so nothing else of the machine's tmux is
// touched) and captures the screen with its ANSI attributes while the command runs, once `ready` accepts it.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export async function captureTerminal({ command, env, cwd, width = 100, height = 12, ready, timeoutMs = 30_000 }) {
  const socket = `screenshots-${process.pid}-${randomBytes(3).toString('hex')}`;
  const tmux = (...args) => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { cwd, env, encoding: 'utf8' });
  try {
    tmux('new-session', '-d', '-s', 'shot', '-x', String(width), '-y', String(height), 'bash --norc --noprofile');
    tmux('set-option', '-t', 'shot', 'status', 'off');
    // bash's own `jobs` builtin would shadow a command of that name.
    tmux('send-keys', '-t', 'shot', "enable -n jobs; PS1='$ '; clear", 'Enter');
    await new Promise((r) => setTimeout(r, 300));
    tmux('send-keys', '-t', 'shot', command, 'Enter');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = tmux('capture-pane', '-p', '-e', '-t', 'shot');
      if (ready(screen)) return screen.replace(/\s+$/, '');
      if (Date.now() > deadline) throw new Error(`the terminal never showed what was awaited; last screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
  }
}
