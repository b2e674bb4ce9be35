#!/usr/bin/env python3
"""Writes tests/fixtures/tokenizer/gemma3.json: llama.cpp's own token ids for Gemma 3 270M's
SentencePiece tokenizer on a corpus of 2,000+ strings, for tests/tokenizer_spm.rs.

Run by hand (not in CI), from the repository root, after

    scripts/fetch-model.sh gemma3-270m                 # models/gemma-3-270m-q4_k_m.gguf
    LLAMACPP_DIR=/work/llamacpp scripts/build-llamacpp.sh   # llama-tokenize (0c1e570)
    LLAMACPP_DIR=/work/llamacpp python3 scripts/make-spm-fixtures.py

The oracle is llama.cpp's `llama-tokenize` (`--ids --no-escape --log-disable --stdin`),
which loads only the vocabulary. Each case records `ids` (BOS added as the model asks,
special tokens parsed: llama-tokenize's defaults) and `plain` (no BOS, `--no-parse-special`:
control tokens written in the text stay text; user-defined ones are still matched).

Loading the 262,144-token vocabulary takes about a second, so strings are tokenized in
batches: joined by a separator that is a user-defined token (matched in both modes) and
absent from every string of the batch, then split at the separator's id. That is exact for
a tokenizer that tokenizes the text between special tokens independently, as llama.cpp's
SPM does with add_space_prefix off (Gemma 3), provided every separator was cut out as
itself; llama.cpp claims special tokens longest first, so a longer one reaching across a
boundary would take a separator's place, and the count of separator ids then tells. A
batch whose count is off is tokenized string by string instead, and a sample of strings
is always also tokenized alone and compared, as a check of the method.

The corpus is a hand list (edge cases: empty, spaces, byte-token and special-token look
alikes, control characters, U+2581 itself, ...) plus strings generated deterministically
(random.Random(SEED)) from pools of words and characters of many scripts.
"""

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "gemma-3-270m-q4_k_m.gguf"
MODEL_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
OUT = ROOT / "tests" / "fixtures" / "tokenizer" / "gemma3.json"
LLAMACPP_DIR = Path(os.environ.get("LLAMACPP_DIR", ROOT / ".llamacpp"))
TOKENIZE = LLAMACPP_DIR / "build" / "bin" / "llama-tokenize"

SEED = 20261207
GENERATED = 2000
BATCH = 250
ALONE_SAMPLE = 24
# User-defined tokens of Gemma 3, tried in order as batch separators.
SEPARATORS = ["[multimodal]", "</footer>", "<bbox>", "</bbox>", "<caption>", "</tfoot>", "<thead>"]
BOS = 2

HAND = [
    "",
    " ",
    "  ",
    "   ",
    " " * 40,
    "\t",
    "\n",
    "\n\n",
    "\n" * 40,
    "\t" * 40,
    "\r\n",
    " \n ",
    "Hello",
    " Hello",
    "Hello ",
    "  Hello  ",
    "Hello world",
    "Hello, world!",
    "hello  world",
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure it's fine, isn't it? We'll see; they've gone.",
    "naïve café déjà vu façade coöperate",
    "Ça va? Où est l'hôtel? Ñandú, pingüino, straße, Ærøskøbing",
    "e\u0301 vs \u00e9",  # NFD vs NFC
    "東京は日本の首都です。",
    "我爱自然语言处理",
    "한국어 텍스트입니다",
    "カタカナとひらがな",
    "Привет, мир!",
    "Γειά σου Κόσμε",
    "مرحبا بالعالم",
    "שלום עולם",
    "नमस्ते दुनिया",
    "สวัสดีชาวโลก",
    "🦀🪐🧬",
    "👍🏽",
    "👨‍👩‍👧‍👦",
    "🇫🇷🇯🇵",
    "I ❤️ Rust 🦀!",
    "𝔸𝔹ℂ 𝄞 𐍈",
    "\ue000\uf8ff",  # private use
    "\uffff\U0010ffff",  # noncharacters
    "\ufeffBOM at start",
    "zero\u200bwidth\u200djoiner\u2060",
    "\u00a0non-breaking\u00a0space",
    "\u3000ideographic space",
    "\u2581",
    "\u2581\u2581 mixed \u2581 marks",
    "a\u2581b",
    "\x00",
    "a\x00b",
    "\x01\x02\x03\x1f\x7f",
    "bell\x07 escape\x1b[31m red\x1b[0m",
    "<0x41>",
    "<0x0A>",
    "<0xFF><0xfe>",
    "<0x",
    "0x41",
    "<bos>",
    "<eos>",
    "<pad>",
    "<unk>",
    "<mask>",
    "<bos>Hello",
    "Hello<eos>",
    "<start_of_turn>",
    "<end_of_turn>",
    "<start_of_turn>user\nHi there!<end_of_turn>\n<start_of_turn>model\n",
    "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n4<end_of_turn>",
    "<start_of_tur",
    "start_of_turn>",
    "<<start_of_turn>>",
    "<start_of_turn><start_of_turn>",
    "<end_of_turn> trailing",
    " <start_of_turn> spaced ",
    "<unused0>",
    "<unused99>",
    "<unused6241>",
    "[multimodal]",
    "<start_of_image>",
    "<end_of_image>",
    "<start_of_image>[multimodal]<end_of_image>",
    "<table><tr><td>1</td></tr></table>",
    "<h1>Title</h1><p>text</p>",
    "<b>bold</b> <i>it</i> <u>u</u> <s>s</s>",
    "</s>",
    "a</s>b",
    "<s></s>",
    "<div class=\"x\"><span>hi</span></div>",
    "</iframe></footer>",
    "<blockquote>quote</blockquote>",
    "<code>fn main() {}</code>",
    "1234567890",
    "3.14159265358979",
    "1,000,000 and 1.000.000",
    "-42 +7 0x1F 1e-9",
    "2026-12-07T19:00:00Z",
    "https://example.com/path?q=1&r=two#frag",
    "user@example.org",
    "C:\\Users\\name\\file.txt",
    "{\"key\": [1, 2, {\"nested\": null}]}",
    "def f(x):\n    return x * 2\n",
    "fn main() {\n\tprintln!(\"hi\");\n}\n",
    "SELECT * FROM t WHERE a = 'b';",
    "a" * 300,
    "ab" * 150,
    "=" * 100,
    "-" * 80,
    "." * 50,
    "!!!???",
    "...",
    "\u2026",
    "“quotes” ‘single’ «guillemets» „low“",
    "— en – dash",
    "½ ¼ ¾ ² ³ µ °C ± × ÷",
    "€100 £50 ¥1000 ₹500 ₿",
    "™ ® © ℠",
    "ﬁ ﬂ ligatures",
    "Ｆｕｌｌｗｉｄｔｈ",
    "ℌ𝔢𝔩𝔩𝔬",
    "MiXeD CaSe WoRdS",
    "UPPERCASE SENTENCE HERE",
    "tab\tseparated\tvalues",
    "line1\nline2\r\nline3\rline4",
    "trailing newline\n",
    "\nleading newline",
    "  \t \n mixed whitespace \n\t  ",
    "Mixed: English, 中文, русский, العربية, हिन्दी, 日本語, 🦀.",
    "Bonjour 世界 🌍 мир",
    "ok👍ok",
    "a🦀b",
    "e\u0301\u0301\u0301",
    "\u0301 leading combining",
    "\u200f\u200e direction marks",
    "\U0001f600" * 20,
    "東" * 100,
    "x" * 1000,
    " " * 1000,
    "The " * 200,
]

WORDS = (
    "the of and to in is was for on that with as by at from his her it an be this are "
    "have which or one had not but what all were when we there can said each she do how "
    "their if will up other about out many then them these so some would make like him "
    "into time has look two more write go see number no way could people my than first "
    "water been call who oil its now find long down day did get come made may part model "
    "language token phone kernel quantize weight layer attention tokenizer SentencePiece "
    "Gemma llama Rust inference small fast careful byte merge score vocabulary unknown"
).split()

POOLS = {
    "ascii": [chr(c) for c in range(0x20, 0x7F)],
    "latin": list("àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßœŠšŽžĀāĒēĪīŌōŪūŁłŃńŚśŹźŻż"),
    "combining": ["\u0300", "\u0301", "\u0302", "\u0303", "\u0308", "\u0327", "\u0338"],
    "cjk": [chr(c) for c in range(0x4E00, 0x4E00 + 400)] + list("、。「」・ー"),
    "kana": [chr(c) for c in range(0x3041, 0x3097)] + [chr(c) for c in range(0x30A1, 0x30FB)],
    "hangul": [chr(c) for c in range(0xAC00, 0xAC00 + 300)],
    "cyrillic": [chr(c) for c in range(0x0410, 0x0450)],
    "greek": [chr(c) for c in range(0x0391, 0x03CA) if c != 0x03A2],
    "arabic": [chr(c) for c in range(0x0621, 0x064B)],
    "devanagari": [chr(c) for c in range(0x0905, 0x0940)],
    "thai": [chr(c) for c in range(0x0E01, 0x0E3A)],
    "emoji": [chr(c) for c in range(0x1F600, 0x1F650)]
    + [chr(c) for c in range(0x1F300, 0x1F340)]
    + ["🦀", "🪐", "🧬", "👍🏽", "👨‍💻", "🏳️‍🌈", "❤️", "✨", "🇯🇵"],
    "rare": [chr(c) for c in range(0x10000, 0x10040)]
    + [chr(c) for c in range(0x1D400, 0x1D440)]
    + ["\U0010fffd", "\ue123", "\ufffd", "\u2581", "\u00a0", "\u200b", "\ufeff"],
    "control": [chr(c) for c in list(range(0x00, 0x20)) + [0x7F]],
    "space": [" ", " ", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " " * 9, "\t\t"],
    "special": [
        "<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>",
        "<unused1>", "<unused42>", "<start_of_image>", "<end_of_image>", "[multimodal]",
        "<table>", "</td>", "<h2>", "<0x41>", "<0xE6>", "<0x00>", "<0x", "<start_of",
        "end_of_turn>", "<", ">", "<>", "</", "<0x41", "<s>", "</s>", "</s", "<eos>x",
    ],
}


def word_text(rng):
    words = [rng.choice(WORDS) for _ in range(rng.randint(1, 14))]
    if rng.random() < 0.5:
        words[0] = words[0].capitalize()
    text = " ".join(words)
    return text + rng.choice(["", ".", "!", "?", ",", ":", ";", "\n"])


def pool_text(rng, pools):
    out = []
    for _ in range(rng.randint(1, 30)):
        pool = POOLS[rng.choice(pools)]
        out.append(rng.choice(pool))
    return "".join(out)


def generated(rng):
    """One generated string: prose, one script, or a mix, with random edges."""
    kind = rng.randrange(8)
    if kind == 0:
        text = word_text(rng)
    elif kind == 1:
        text = pool_text(rng, [rng.choice(list(POOLS))])
    elif kind == 2:
        text = pool_text(rng, rng.sample(list(POOLS), rng.randint(2, 5)))
    elif kind == 3:
        text = word_text(rng) + rng.choice(POOLS["special"]) + word_text(rng)
    elif kind == 4:
        parts = [word_text(rng), pool_text(rng, ["cjk", "emoji", "latin", "space"])]
        rng.shuffle(parts)
        text = rng.choice([" ", "", "\n", "\t"]).join(parts)
    elif kind == 5:
        text = "".join(rng.choice(POOLS["space"] + POOLS["special"]) for _ in range(rng.randint(1, 12)))
    elif kind == 6:
        text = pool_text(rng, ["ascii", "ascii", "control", "space"])
    else:
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60)))
    edge = rng.randrange(6)
    if edge == 0:
        text = " " * rng.randint(1, 4) + text
    elif edge == 1:
        text = text + " " * rng.randint(1, 4)
    elif edge == 2:
        text = rng.choice(POOLS["space"]) + text + rng.choice(POOLS["space"])
    return text


def corpus():
    rng = random.Random(SEED)
    texts = list(HAND)
    seen = set(texts)
    while len(texts) < len(HAND) + GENERATED:
        text = generated(rng)
        if text not in seen:
            seen.add(text)
            texts.append(text)
    return texts


def run_tokenize(text, parse_special):
    """llama-tokenize's ids for `text` (BOS only when parsing specials: the model adds it)."""
    args = [str(TOKENIZE), "-m", str(MODEL), "--stdin", "--ids", "--no-escape", "--log-disable"]
    if not parse_special:
        args += ["--no-bos", "--no-parse-special"]
    out = subprocess.run(args, input=text.encode(), capture_output=True, check=False)
    if out.returncode != 0:
        sys.exit(f"llama-tokenize failed ({out.returncode}): {out.stderr.decode(errors='replace')}")
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def tokenize_batch(texts, parse_special):
    """Ids of each text (without BOS), from one llama-tokenize call, or None if the
    separators did not come out as themselves."""
    sep = next((s for s in SEPARATORS if not any(s in t for t in texts)), None)
    if sep is None:
        return None
    sep_ids = strip_bos(run_tokenize(sep, parse_special), parse_special)
    assert len(sep_ids) == 1, (sep, sep_ids)
    sep_id = sep_ids[0]
    ids = run_tokenize(sep.join(texts), parse_special)
    if parse_special:
        assert ids[0] == BOS, ids[:3]
        ids = ids[1:]
    pieces = [[]]
    for i in ids:
        if i == sep_id:
            pieces.append([])
        else:
            pieces[-1].append(i)
    return pieces if len(pieces) == len(texts) else None


def tokenize_all(texts, parse_special):
    result = []
    for start in range(0, len(texts), BATCH):
        batch = texts[start : start + BATCH]
        pieces = tokenize_batch(batch, parse_special)
        if pieces is None:
            print(f"batch at {start}: separators disturbed, one call per string", file=sys.stderr)
            pieces = [strip_bos(run_tokenize(t, parse_special), parse_special) for t in batch]
        result.extend(pieces)
    return result


def strip_bos(ids, parse_special):
    if parse_special:
        assert ids[:1] == [BOS], ids[:3]
        return ids[1:]
    return ids


def main():
    if not TOKENIZE.exists():
        sys.exit(f"{TOKENIZE} missing: run LLAMACPP_DIR={LLAMACPP_DIR} scripts/build-llamacpp.sh")
    if not MODEL.exists():
        sys.exit(f"{MODEL} missing: run scripts/fetch-model.sh gemma3-270m")
    digest = hashlib.sha256(MODEL.read_bytes()).hexdigest()
    if digest != MODEL_SHA256:
        sys.exit(f"{MODEL}: sha256 {digest}, expected {MODEL_SHA256}")

    texts = corpus()
    parsed = tokenize_all(texts, True)
    plain = tokenize_all(texts, False)

    # The batching is checked, not trusted: a sample tokenized alone must agree.
    rng = random.Random(SEED + 1)
    sample = list(range(40)) + rng.sample(range(len(texts)), ALONE_SAMPLE)
    for i in sample:
        alone = strip_bos(run_tokenize(texts[i], True), True)
        alone_plain = run_tokenize(texts[i], False)
        if alone != parsed[i] or alone_plain != plain[i]:
            sys.exit(f"batching changed the ids of case {i} ({texts[i]!r})")

    doc = {
        "model": MODEL.name,
        "sha256": MODEL_SHA256,
        "oracle": "llama.cpp 0c1e570 llama-tokenize --ids --no-escape (llama-cpp-python 0.3.36 sdist)",
        "bos": BOS,
        "cases": [
            {"text": t, "ids": [BOS] + p, **({} if q == p else {"plain": q})}
            for t, p, q in zip(texts, parsed, plain)
        ],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
    tokens = sum(len(c["ids"]) for c in doc["cases"])
    print(f"wrote {OUT} ({len(texts)} cases, {tokens} ids, {OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
