#!/usr/bin/env node
console.log("codemie");
