// The shell every benchmark runs in: reads its settings from the command line and environment
// (a bad value prints the problem and the usage, exit 2; --help prints the usage, exit 0), runs it,
// and exits with its code (a crash prints its stack, exit 1). I/O (process).

export function runBench<S>(
  name: string,
  usage: string,
  parse: (argv: string[], env: NodeJS.ProcessEnv) => S | 'help',
  bench: (settings: S) => Promise<number>,
): void {
  let parsed: S | 'help';
  try {
    parsed = parse(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`${name}: ${(err as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  if (parsed === 'help') {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  bench(parsed).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
