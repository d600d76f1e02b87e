/** drover's HTTP API (see routes.ts for the route table). */
export { createApi, startApiServer } from "./server";
export type { ApiServer } from "./server";
export type { ApiOptions, IdKind, RegistrationSettings } from "./options";
export { MAX_BODY_BYTES } from "./body";
export { routeTable } from "./routes";
