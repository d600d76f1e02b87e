/** The `digitalocean` Host driver: see driver.ts, and README "Host drivers" for how to add a cloud. */
export { digitalOceanDriver, dropletOutputs, type DigitalOceanContext } from "./driver";
export { DIGITALOCEAN_IMAGES, droverTag, type DigitalOceanDriverInputs, type DigitalOceanImage, type DropletRecord } from "./inputs";
export { digitalOceanFailures, DIGITALOCEAN_FIELDS } from "./check";
