import type { Io } from './context';

/** A spinner on stderr when it is a TTY; silent otherwise (logs and CI stay clean). */
export function progress(io: Io, label: string, stream: NodeJS.WriteStream = process.stderr): { done(): void } {
  if (!stream.isTTY || io.err !== defaultErr) return { done: () => undefined };
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  const start = Date.now();
  let i = 0;
  const timer = setInterval(
    () => stream.write(`\r${frames[i++ % frames.length]} ${label} ${((Date.now() - start) / 1000).toFixed(1)}s`),
    80,
  );
  return {
    done: () => {
      clearInterval(timer);
      stream.write('\r\x1b[2K');
    },
  };
}

/** The process's stderr writer, so in-process tests (with their own Io) never get a spinner. */
export const defaultErr = (l: string) => void process.stderr.write(l + '\n');
