/** drover's Pulumi resources. Each is a dynamic resource with its own type token `drover:<Name>`. */
export { Environment, environmentProvider, type EnvironmentArgs } from "./environment";
export { Stack, stackProvider, type StackArgs } from "./stack";
export { Service, serviceProvider, type ServiceArgs } from "./service";
export { UNKNOWN } from "./unknown";
