import { compareServeBatching } from './dist/bench/generate/serveBatching.js'
import { benchModelDir } from './dist/bench/generate/model.js'
console.log(JSON.stringify(await compareServeBatching(benchModelDir(), 2, (l) => console.error(l))))
