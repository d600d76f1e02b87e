/**
 * drover's Pulumi resources. Each is a dynamic resource with its own type token `drover:<Name>`.
 * `xxxProvider` is the implementation; `xxxResourceProvider` is what Pulumi serializes into the
 * state (a few lines that load the implementation from the installed drover: forward.ts).
 */
export { Environment, environmentProvider, environmentResourceProvider, type EnvironmentArgs, type EnvironmentNetworkInput } from "./environment";
export { Stack, stackProvider, stackResourceProvider, type StackArgs } from "./stack";
export { Service, serviceProvider, serviceResourceProvider } from "./service";
export type {
  HealthCheckInput, HealthCheckStrategy, PortInput, PortMapping, PortProtocolSuffix, RestartPolicyInput, RestartPolicyName, ServiceArgs, UpgradeStrategyInput, SidekickInput,
} from "./service-args";
export type { ServiceInstanceOutput } from "./service-status";
export type { LabelSelectorInput, SchedulingInput } from "./scheduling-input";
export {
  LoadBalancer, loadBalancerProvider, loadBalancerResourceProvider, type LoadBalancerArgs, type PortRuleInput, type StickinessInput, type TimeoutsInput,
} from "./load-balancer";
export { Certificate, certificateProvider, certificateResourceProvider, type CertificateArgs } from "./certificate";
export { Host, hostProvider, hostResourceProvider, type HostArgs, type LocalDriverArgs, type SshDriverArgs } from "./host";
export type { DriverInputs, HostDriver, LocalDriverInputs, SshDriverInputs } from "./drivers/types";
export { UNKNOWN } from "./unknown";
