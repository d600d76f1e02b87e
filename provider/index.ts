/** drover's Pulumi resources. Each is a dynamic resource with its own type token `drover:<Name>`. */
export { Environment, environmentProvider, type EnvironmentArgs } from "./environment";
export { Stack, stackProvider, type StackArgs } from "./stack";
export { Service, serviceProvider, type ServiceArgs } from "./service";
export { LoadBalancer, loadBalancerProvider, type LoadBalancerArgs, type PortRuleInput } from "./load-balancer";
export { Host, hostProvider, type HostArgs } from "./host";
export type { DriverInputs, HostDriver } from "./drivers/types";
export { UNKNOWN } from "./unknown";
