#!/usr/bin/env python3
"""llama-perplexity's protocol through llama-cpp-python, to compare with `slimlm perplexity`.

Run by hand (never in CI) with a venv that has llama-cpp-python, e.g. /opt/llamacpp-venv from
scripts/make-llamacpp-fixtures.py:
    /opt/llamacpp-venv/bin/python scripts/perplexity-llamacpp.py MODEL.gguf TEXT.txt 512
Same protocol as src/runtime/perplexity.rs: non-overlapping chunks of ctx tokens, BOS first
when the model adds it, the second half of each chunk scored."""
import sys, math, numpy as np, llama_cpp
path, text_file, ctx = sys.argv[1], sys.argv[2], int(sys.argv[3])
llm = llama_cpp.Llama(model_path=path, n_ctx=ctx, n_batch=ctx, n_threads=2, logits_all=True, verbose=False)
text = open(text_file, encoding="utf-8").read()
toks = llm.tokenize(text.encode(), add_bos=True, special=False)
add_bos = llm.metadata.get("tokenizer.ggml.add_bos_token", "false") == "true"
print("tokens", len(toks), "add_bos", add_bos)
n_chunk = len(toks) // ctx
first = ctx // 2
nll, count = 0.0, 0
for i in range(n_chunk):
    batch = toks[i*ctx:(i+1)*ctx]
    if add_bos:
        batch = [llm.token_bos()] + batch[1:]
    llm.reset()
    llm.eval(batch)
    logits = np.array(llm.scores[:ctx], dtype=np.float64)
    for j in range(first, ctx - 1):
        row = logits[j]
        mx = row.max()
        lse = mx + math.log(np.exp(row - mx).sum())
        nll += lse - row[toks[i*ctx + j + 1]]
        count += 1
    print(f"[{i+1}]{math.exp(nll/count):.4f}", flush=True)
print(f"Final estimate: PPL = {math.exp(nll/count):.4f} ({n_chunk} chunks, {count} scored)")
