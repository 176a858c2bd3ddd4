import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Json } from '../runner.ts';
import { notificationsPath, type StepContext } from './context.ts';

interface PublishInput {
  readonly TopicArn?: string;
  readonly Subject?: string;
  readonly Message?: string;
  readonly MessageAttributes?: Record<string, { DataType?: string; StringValue?: string }>;
}

/**
 * Notify (`sns:publish`): appends the message as one JSON line to the state dir's
 * notifications.log and announces it on the terminal; returns SNS's `{ MessageId }`.
 */
export function notify(ctx: StepContext) {
  return async (raw: Json): Promise<Json> => {
    const input = raw as unknown as PublishInput;
    if (!input.Message) throw new Error('sns:publish needs a Message');
    const messageId = randomUUID();
    const attributes = Object.fromEntries(
      Object.entries(input.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? '']),
    );
    const path = notificationsPath(ctx.config.stateDir);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await appendFile(
      path,
      `${JSON.stringify({ at: ctx.now().toISOString(), messageId, subject: input.Subject, message: input.Message, attributes })}\n`,
      { mode: 0o600 },
    );
    ctx.announce(
      `[notify ${attributes.severity ?? 'normal'}] ${input.Subject ?? ''}: ${input.Message}`,
    );
    return { MessageId: messageId };
  };
}
