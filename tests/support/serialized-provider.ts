// The text Pulumi stores as `__provider` in every IndividualEnrollment's inputs and outputs: a require() of the
// installed package's root index.js (whose module.exports is the provider object), never the provider's code. The
// same text as the states written before the provider became a package, so those states need nothing.
export const serializedProvider = `exports.handler = __f0;
const provider = require("@dps-enrollments/enrollment-provider/index.js");

function __f0() {
  return (function() {
    with({ this: undefined, arguments: undefined }) {

return () => provider;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}
`;
