/**
 * A promise that resolves in a task of its own (a message, unclamped unlike nested timers): work after it lets
 * pending messages and input in first, and many such continuations never add up to one long task.
 */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
