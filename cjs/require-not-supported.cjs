// piopiy-ai is published as ES modules only (see README.md, "Use it in your project"). A require() of any of its
// entry points lands here instead of failing deep inside the module graph with an error about cycles or ESM.
'use strict';
const error = new Error(
  'piopiy-ai is an ES module: load it with `import` (in TypeScript too), and add "type": "module" to your ' +
    'package.json; require() is not supported.',
);
error.code = 'ERR_REQUIRE_ESM';
throw error;
