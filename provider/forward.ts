/**
 * What Pulumi serializes into the state for each drover resource: a few lines that load the
 * installed drover's implementation when the engine calls them, instead of the closure
 * serializer copying every helper and validator by value (80 KB per resource, which the
 * engine encodes and decodes on every check, diff and registration: the cost of a preview).
 *
 * `load` must contain a literal `require("drover/dist/...")`: the serializer keeps a require
 * inside a function as written, and it is resolved from the program's directory when it runs
 * (package self-reference inside the drover checkout, node_modules/drover elsewhere). So
 * destroy and refresh of old state run the drover that is installed now, as with any
 * packaged Pulumi provider; the implementation keeps reading state written by older versions.
 */
import type * as pulumi from "@pulumi/pulumi";

export function forwardingProvider(load: () => any): pulumi.dynamic.ResourceProvider {
  return {
    // The implementation object is per provider instance (its `settings` come from configure()).
    async configure(req: any) { return impl(this).configure(req); },
    async check(olds: any, news: any) { return impl(this).check(olds, news); },
    async diff(id: any, olds: any, news: any) { return impl(this).diff(id, olds, news); },
    async create(inputs: any) { return impl(this).create(inputs); },
    async read(id: any, props: any) { return impl(this).read(id, props); },
    async update(id: any, olds: any, news: any) { return impl(this).update(id, olds, news); },
    async delete(id: any, props: any) { return impl(this).delete(id, props); },
  } as pulumi.dynamic.ResourceProvider;

  function impl(self: any): any {
    if (!self.__impl) self.__impl = Object.create(load());
    return self.__impl;
  }
}
