#!/usr/bin/env node
// A Node.js language host for the Pulumi engine (the `pulumi-language-nodejs` plugin).
//
// Why this exists: the Go module that builds Pulumi's own language host
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) is not served by the Go
// module proxy reachable here, so it cannot be built. This host speaks the same gRPC
// LanguageRuntime protocol, using the stubs and grpc-js that ship inside @pulumi/pulumi, and
// does what the Go host does for `preview`, `up`, `refresh` and `destroy`: it runs the SDK's
// `@pulumi/pulumi/cmd/run` with the engine's arguments and the stack config in PULUMI_CONFIG.
// It reports no plugins to download (drover only uses dynamic providers) and answers
// Unimplemented for code generation, packing and dependency installation.
"use strict";
const path = require("path");
const { spawn } = require("child_process");

const VERSION = "3.248.0";
// Exit code with which `cmd/run` says it already showed the user an actionable message.
const EXIT_AFTER_USER_MESSAGE = 32;

function parseArgs(argv) {
  // The engine passes Go-style flags (-root=..., -tracing=...) then the engine address last.
  const flags = {};
  const positional = [];
  for (const arg of argv) {
    const m = /^--?([\w-]+)(?:=(.*))?$/.exec(arg);
    if (m) flags[m[1]] = m[2] === undefined ? "true" : m[2];
    else positional.push(arg);
  }
  return { flags, engineAddress: positional[positional.length - 1] || "" };
}

function resolveFrom(dirs, request) {
  return require.resolve(request, { paths: dirs });
}

function sdkDirFrom(dirs) {
  return path.dirname(resolveFrom(dirs, "@pulumi/pulumi/package.json"));
}

function main() {
  const { flags, engineAddress } = parseArgs(process.argv.slice(2));
  const searchDirs = [flags.root, process.cwd()].filter(Boolean);
  const sdkDir = sdkDirFrom(searchDirs);
  const grpc = require(resolveFrom([sdkDir], "@grpc/grpc-js"));
  const services = require(path.join(sdkDir, "proto", "language_grpc_pb.js"));
  const messages = require(path.join(sdkDir, "proto", "language_pb.js"));
  const pluginMessages = require(path.join(sdkDir, "proto", "plugin_pb.js"));
  const emptyMessages = require(resolveFrom([sdkDir], "google-protobuf/google/protobuf/empty_pb.js"));

  const unimplemented = (name) => (call, callback) => {
    const err = new Error(`${name} is not implemented by drover's language host`);
    err.code = grpc.status.UNIMPLEMENTED;
    if (callback) callback(err, null);
    else call.destroy(err);
  };

  const impl = {
    handshake: unimplemented("Handshake"),
    getPluginInfo(_call, callback) {
      const info = new pluginMessages.PluginInfo();
      info.setVersion(VERSION);
      callback(null, info);
    },
    getRequiredPlugins(_call, callback) {
      callback(null, new messages.GetRequiredPluginsResponse());
    },
    getRequiredPackages(_call, callback) {
      callback(null, new messages.GetRequiredPackagesResponse());
    },
    run(call, callback) {
      runProgram(call.request, engineAddress, flags, messages).then(
        (res) => callback(null, res),
        (err) => callback(err, null),
      );
    },
    about(_call, callback) {
      const res = new messages.AboutResponse();
      res.setExecutable(process.execPath);
      res.setVersion(process.version);
      callback(null, res);
    },
    installDependencies(call) {
      // Dependencies come from the project's own `npm ci`; nothing to do here.
      call.end();
    },
    runtimeOptionsPrompts(_call, callback) {
      callback(null, new messages.RuntimeOptionsResponse());
    },
    getProgramDependencies: unimplemented("GetProgramDependencies"),
    template: unimplemented("Template"),
    runPlugin: unimplemented("RunPlugin"),
    generateProgram: unimplemented("GenerateProgram"),
    generateProject: unimplemented("GenerateProject"),
    generatePackage: unimplemented("GeneratePackage"),
    pack: unimplemented("Pack"),
    link: unimplemented("Link"),
    cancel(_call, callback) {
      callback(null, new emptyMessages.Empty());
    },
  };

  const server = new grpc.Server({
    "grpc.max_receive_message_length": 400 * 1024 * 1024,
    "grpc.max_send_message_length": 400 * 1024 * 1024,
  });
  server.addService(services.LanguageRuntimeService, impl);
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      console.error(`drover language host: cannot listen: ${err.message}`);
      process.exit(1);
    }
    process.stdout.write(`${port}\n`);
  });
  // The engine closes our stdin / kills us when done; exit cleanly on SIGTERM/SIGINT.
  for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.tryShutdown(() => process.exit(0)));
}

function runProgram(req, engineAddress, flags, messages) {
  const info = req.getInfo();
  const pwd = req.getPwd() || (info && info.getProgramDirectory()) || process.cwd();
  const rootDir = (info && info.getRootDirectory()) || flags.root || pwd;
  const programDir = (info && info.getProgramDirectory()) || pwd;
  const runPath = resolveFrom([programDir, rootDir], "@pulumi/pulumi/cmd/run");

  const args = [runPath];
  const add = (k, v) => { if (v !== undefined && v !== null && v !== "") args.push(`--${k}`, String(v)); };
  add("monitor", req.getMonitorAddress());
  add("engine", engineAddress);
  add("organization", req.getOrganization());
  add("project", req.getProject());
  add("root-directory", rootDir);
  add("stack", req.getStack());
  add("pwd", pwd);
  if (req.getDryrun()) args.push("--dry-run");
  add("parallel", req.getParallel());
  add("tracing", flags.tracing);
  args.push(req.getProgram() || ".");
  args.push(...req.getArgsList());

  const config = {};
  req.getConfigMap().forEach((value, key) => { config[key] = value; });
  const env = {
    ...process.env,
    PULUMI_CONFIG: JSON.stringify(config),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
  };
  // Runtime option `typescript` (Pulumi.yaml) defaults to true, as in Pulumi's own host.
  const options = info && info.getOptions() ? info.getOptions().toJavaScript() : {};
  env.PULUMI_NODEJS_TYPESCRIPT = options.typescript === false ? "false" : "true";
  if (options.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = String(options.tsconfig);
  const nodeArgs = options.nodeargs ? String(options.nodeargs).split(/\s+/).filter(Boolean) : [];

  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: pwd, env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", (err) => {
      const res = new messages.RunResponse();
      res.setError(`could not run the Node.js program: ${err.message}`);
      resolve(res);
    });
    child.on("exit", (code, signal) => {
      const res = new messages.RunResponse();
      if (code === EXIT_AFTER_USER_MESSAGE) res.setBail(true);
      else if (signal) res.setError(`Program was terminated by signal ${signal}`);
      else if (code !== 0) res.setError(`Program exited with non-zero exit code: ${code}`);
      resolve(res);
    });
  });
}

main();
