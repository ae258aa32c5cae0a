/**
 * A background task whose run fails outside the assistant call (the store throws) is not left
 * STARTED: the queue gives it up and the task is marked FAILED with the reason.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { InProcessRunQueue } from '../runs/in-process-queue.js';
import { ASSISTANT_TASK_KIND, registerAssistantTasks } from './background.js';

describe('background task given up', () => {
  it('a run that throws marks its task FAILED with the reason', async () => {
    const runs = new InProcessRunQueue(1, pino({ level: 'silent' }));
    const finished: unknown[] = [];
    const tasks = {
      get: async () => {
        throw new Error('database is locked');
      },
      finish: async (...args: unknown[]) => {
        finished.push(args);
      },
    };
    registerAssistantTasks({ runs, tasks, assistants: {}, calls: {}, log: pino({ level: 'silent' }) } as never);
    await runs.start();
    await runs.enqueue(ASSISTANT_TASK_KIND, 'task-1');
    for (let i = 0; i < 100 && !finished.length; i++) await new Promise((r) => setTimeout(r, 5));
    expect(finished).toEqual([['task-1', 'FAILED', 'The task could not be completed: database is locked', 'Failed']]);
    await runs.stop(0);
  });
});
