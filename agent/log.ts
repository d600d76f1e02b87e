/** The agent logs through drover's one logger (runtime/protocol/log.ts); agent files import it from here. */
export { createLogger, errorMessage, type Logger, type LogFields, type LogLevel } from "../runtime/protocol/log";
