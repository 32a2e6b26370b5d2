import { ValidationError, fieldErrorsFromIssues } from '@jobs/core';
import type { z } from 'zod';
import { fileProcessTask } from './builtin/file-process';
import { anthropicMessageTask } from './builtin/anthropic-message';
import { httpRequestTask } from './builtin/http-request';
import { llmBatchTask } from './builtin/llm-batch';
import { noopTask } from './builtin/noop';
import { sleepTask } from './builtin/sleep';
import type { Task } from './task';

/** The one registry of tasks: adding a task is a file under builtin/ and a line here. */
export class TaskRegistry {
  private readonly tasks = new Map<string, Task>();

  register(task: Task): this {
    if (this.tasks.has(task.name)) throw new Error(`Task ${task.name} is registered twice`);
    this.tasks.set(task.name, task);
    return this;
  }

  get(name: string): Task | undefined {
    return this.tasks.get(name);
  }

  names(): string[] {
    return [...this.tasks.keys()].sort();
  }

  /** Validates a job's input against its task; errors name `task` or `input.<field>`. */
  validate(name: string, input: unknown): Record<string, unknown> {
    const task = this.tasks.get(name);
    if (!task) throw new ValidationError([{ path: 'task', message: `unknown task "${name}"; known: ${this.names().join(', ')}` }]);
    const parsed = (task.input as z.ZodType).safeParse(input);
    if (!parsed.success) {
      throw new ValidationError(fieldErrorsFromIssues(parsed.error.issues, ['input']));
    }
    return parsed.data as Record<string, unknown>;
  }
}

export function builtinTasks(): TaskRegistry {
  return new TaskRegistry().register(noopTask).register(sleepTask).register(httpRequestTask).register(llmBatchTask).register(fileProcessTask).register(anthropicMessageTask);
}
