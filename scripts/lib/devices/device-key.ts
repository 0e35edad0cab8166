// A device's symmetric key in a symmetric-key enrollment group, as the device side computes it: DPS never accepts the
// group key itself from a device, only this key derived for its registration ID. One implementation, the package's
// (npm run device-key prints the same); the emulator keeps its own in emulator/sas.ts as an independent cross-check.
export { deriveDeviceKey } from "../../../dynamic-providers/enrollment/device-key";
