// A process that will not stop on SIGTERM, to prove the supervisor escalates to SIGKILL.
process.on('SIGTERM', () => {});
setInterval(() => {}, 1_000);
process.stdout.write('started\n');
