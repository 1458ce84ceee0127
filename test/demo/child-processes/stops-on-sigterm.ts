// A well-behaved process: it exits promptly on SIGTERM.
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1_000);
process.stdout.write('started\n');
