import { Logger } from '@nestjs/common';

// Real dependencies take real time; jest's testTimeout is not a per-project option.
jest.setTimeout(60_000);
// Adapters log through Nest's Logger; in tests only errors are worth reading.
Logger.overrideLogger(['error']);
