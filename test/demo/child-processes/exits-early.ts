// A process that dies on its own, as a crashing worker would.
process.stdout.write('giving up\n');
process.exit(3);
