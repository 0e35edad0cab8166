// Jest runs the TypeScript sources through ts-jest; tests live beside the code (*.test.ts) and in tests/.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  testMatch: ["<rootDir>/**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/build/", "/dist/", "/.pulumi-state/"],
  // Lifecycle tests drive the real Pulumi CLI; they share the machine's two cores with it.
  maxWorkers: 2,
  testTimeout: 300000,
};
