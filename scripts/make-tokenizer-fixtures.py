#!/usr/bin/env python3
"""Writes tests/fixtures/tokenizer/smollm2.json: reference token ids and decodes for
SmolLM2-135M-Instruct, made by Hugging Face `tokenizers` (the oracle), for tests/tokenizer.rs.

Run by hand (not in CI), from the repository root, after scripts/fetch-model.sh:

    pip install tokenizers gguf
    python3 scripts/make-tokenizer-fixtures.py

How the oracle is built: transformers' own GGUF import needs torch, so instead this script
reads the vocabulary, merges and token types from the GGUF with the `gguf` package and
rebuilds the tokenizer exactly as SmolLM2's published tokenizer.json configures it:
no normalizer; pre-tokenizer Sequence[Digits(individual_digits=True),
ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)]; a BPE model without
unk token, dropout or byte fallback; a ByteLevel decoder; and every control token
(GGUF token type 3) as a special added token. SmolLM2 adds no BOS/EOS (add_bos_token is
false in the GGUF and its tokenizer.json has no template post-processor), so the ids with
and without `add_special` are the same and the fixture records them once.

Each case records `ids` (special tokens parsed) and, when it differs, `ids_plain`
(special-token text tokenized as ordinary text: `encode_special_tokens = True`), and
`decode` (the decode of `ids` with special tokens kept; `decode_plain` for `ids_plain` when
that differs, which only happens when the text has bytes the vocabulary lacks).
"""

import json
import sys
from pathlib import Path

import gguf
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
OUT = ROOT / "tests" / "fixtures" / "tokenizer" / "smollm2.json"

LONG_PARAGRAPH = (
    "Small language models run on phones when every layer is careful: the weights are "
    "quantized to four bits, the kernels use the dot-product instructions of the CPU, and "
    "the tokenizer must agree with the one the model was trained with, byte for byte. "
    "A single mismatch (say, 2024 split as \"20\" + \"24\" instead of \"2\", \"0\", \"2\", "
    "\"4\") shifts every later position and the model quietly degrades. That's why we test "
    "against the reference implementation, with accents (café, naïve, Ærøskøbing), "
    "CJK (東京は日本の首都です。), emoji (🚀🔥), and code:\n\n"
    "    fn main() {\n        println!(\"{}\", 40 + 2);\n    }\n\n"
    "It's not glamorous work; it's the work that makes the rest possible.  "
)

CASES = [
    ("empty", ""),
    ("single_space", " "),
    ("hello_world", "Hello, world!"),
    ("leading_space", " Hello"),
    ("contractions", "I'm sure they'll say it's fine, don't you think? We've seen it, you'd agree."),
    ("contractions_upper", "I'M SURE IT'S FINE, DON'T YOU THINK? WE'VE, YOU'D, THEY'LL"),
    ("accents", "Café naïve résumé façade Ångström Ærøskøbing"),
    ("combining_marks", "e\u0301 a\u0300 n\u0303 Zalgo: Z\u0351\u036b\u0343a\u0334l\u0337g\u0336o"),
    ("cjk", "你好，世界！这是一个测试。東京は日本の首都です。"),
    ("japanese_korean", "日本語のテキストとカタカナ ー 한국어 텍스트입니다"),
    ("emoji", "Emoji: 😀👍🏽🇺🇸 and ❤️ and 👨‍👩‍👧‍👦 family 🚀"),
    ("rtl", "مرحبا بالعالم — שלום עולם"),
    ("cyrillic_greek", "Привет, мир! Γειά σου Κόσμε"),
    ("digits", "Numbers 12345 and 3.14159 and 1,000,000 and -42"),
    ("long_number", "9876543210123456789012345678901234567890"),
    ("digits_glued", "ABC123def456 x2y3 0x1F 1e-9"),
    ("unicode_digits", "٣٤٥ ５６ ½ ² Ⅻ"),
    ("code_python", "def foo(x):\n    return x ** 2  # comment\n\n\nclass A:\n\tpass\n"),
    ("code_rust", "fn main() {\n    let v: Vec<u32> = (0..10).collect();\n    println!(\"{:?}\", v);\n}\n"),
    ("tabs", "a\tb\t\tc\t \td\t"),
    ("whitespace_runs", "one  two   three    four     five"),
    ("trailing_spaces", "trailing spaces   "),
    ("leading_spaces", "   leading spaces"),
    ("newlines", "line one\nline two\n\nline four\r\nwindows\r\n\n\n"),
    ("spaces_before_newline", "end of line   \n  next line  \n\n   "),
    ("only_newlines", "\n\n\n"),
    ("odd_whitespace", "nbsp\u00a0here thin\u2009space ideographic\u3000space zero\u200bwidth"),
    # SmolLM2 has no token for bytes 0x04, 0x06, 0x13, 0x14, 0x16, 0x1d: they are dropped.
    ("control_chars", "bell\x07 eot\x04! nul\x00 esc\x1b[0m ack\x06\x06x \x13\x14\x16\x1d."),
    ("punctuation", "Punctuation!!! ??? ... --- (parens) [brackets] {braces} <angle> @#$%^&*"),
    ("url_email", "https://example.com/path?q=1&r=two#frag mail@example.org"),
    ("chatml", "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n"),
    ("special_inline", "text<|endoftext|>more text"),
    ("special_adjacent", "<|im_end|><|im_end|> <|im_start|>"),
    ("special_partial", "<|im_start <|im_end| im_end|> <|endoftext"),
    ("special_code_tokens", "<filename>main.rs<file_sep><gh_stars>100"),
    ("mixed_scripts", "Apples are りんご 林檎, Äpfel sind lecker; 🍎=1.5€"),
    ("repeated_char", "=" * 64 + "\n" + "a" * 50),
    ("long_paragraph", LONG_PARAGRAPH),
]


def control_tokens(reader):
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    types = reader.fields["tokenizer.ggml.token_type"].contents()
    return tokens, [t for t, ty in zip(tokens, types) if ty == 3]


def build_oracle(reader):
    tokens, specials = control_tokens(reader)
    merges = reader.fields["tokenizer.ggml.merges"].contents()
    assert reader.fields["tokenizer.ggml.model"].contents() == "gpt2"
    assert reader.fields["tokenizer.ggml.pre"].contents() == "smollm"
    vocab = {tok: i for i, tok in enumerate(tokens)}
    bpe = models.BPE(
        vocab=vocab,
        merges=[tuple(m.split(" ", 1)) for m in merges],
        unk_token=None,
        fuse_unk=False,
        byte_fallback=False,
    )
    tok = Tokenizer(bpe)
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    for s in specials:
        assert tok.token_to_id(s) == vocab[s], s
    return tok


def main():
    if not MODEL.exists():
        sys.exit(f"{MODEL} missing: run scripts/fetch-model.sh")
    tok = build_oracle(gguf.GGUFReader(MODEL))
    cases = []
    for name, text in CASES:
        tok.encode_special_tokens = False
        ids = tok.encode(text, add_special_tokens=True).ids
        tok.encode_special_tokens = True
        ids_plain = tok.encode(text, add_special_tokens=True).ids
        case = {"name": name, "text": text, "ids": ids}
        if ids_plain != ids:
            case["ids_plain"] = ids_plain
        case["decode"] = tok.decode(ids, skip_special_tokens=False)
        if tok.decode(ids_plain, skip_special_tokens=False) != case["decode"]:
            case["decode_plain"] = tok.decode(ids_plain, skip_special_tokens=False)
        cases.append(case)
    doc = {
        "model": MODEL.name,
        "oracle": "tokenizers " + __import__("tokenizers").__version__
        + ": GGUF vocab+merges, Sequence[Digits(individual), ByteLevel(no prefix space)]",
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} cases to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
