//! Chat templates: the real SmolLM2-Instruct template against Python jinja2's rendering,
//! Llama-3 and Qwen2.5 forms, Python string methods, and hostile templates that must fail
//! fast with a clear error.
//!
//! Fixtures (tests/fixtures/chat/):
//! - `smollm2_template.jinja`: the exact `tokenizer.chat_template` of
//!   models/SmolLM2-135M-Instruct.Q4_1.gguf, written by
//!   `python3 -c "import gguf; r = gguf.GGUFReader('models/SmolLM2-135M-Instruct.Q4_1.gguf');
//!   f = r.fields['tokenizer.chat_template'];
//!   open('tests/fixtures/chat/smollm2_template.jinja', 'w').write(bytes(f.parts[f.data[0]]).decode())"`
//! - `smollm2_expected.txt`: that template rendered by Python jinja2 3.1.6 the way
//!   transformers does (`jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True,
//!   lstrip_blocks=True, extensions=['jinja2.ext.loopcontrols'])`) with
//!   [`smollm2_conversation`], `add_generation_prompt=True`, `bos_token='<|im_start|>'`,
//!   `eos_token='<|im_end|>'`.
//!
//! The expected strings of the inline templates were derived by reading them and checked
//! against the same jinja2 environment.

use slimlm::chat::{ChatError, ChatMessage, ChatTemplate};

#[path = "common/heap_meter.rs"]
mod heap_meter;
use heap_meter::{measure, HeapMeter, HeapWork};

#[global_allocator]
static HEAP: HeapMeter = HeapMeter;

/// What one hostile render or compile may cost, about 4x the most any template below was
/// measured to use (2026-12-07): 116 MB allocated in all (a 10^10-iteration loop printing
/// `x`, stopped by fuel), 42 MB live at once (a string doubled until the fuel ran out),
/// 254k allocations. Unmetered paths blow through these by orders of magnitude: before
/// `split` was charged per piece, `('x ' * 5000000).split()` held 331 MB; the lazy
/// `seq * n` and `a + a` repetitions that the guard now refuses allocated gigabytes.
const MAX_HEAP_BYTES: u64 = 512 << 20;
/// Most bytes a hostile render may hold at once.
const MAX_LIVE_BYTES: u64 = 160 << 20;
/// Allocations per render.
const MAX_ALLOCATIONS: u64 = 1_000_000;

/// Fails unless `work` is within the bounds above.
fn assert_bounded(source: &str, work: HeapWork) {
    assert!(
        work.bytes <= MAX_HEAP_BYTES
            && work.peak_live_bytes <= MAX_LIVE_BYTES
            && work.allocations <= MAX_ALLOCATIONS,
        "{source}: heap work {work:?} exceeds the bounds"
    );
}

const SMOLLM2_TEMPLATE: &str = include_str!("fixtures/chat/smollm2_template.jinja");
const SMOLLM2_EXPECTED: &str = include_str!("fixtures/chat/smollm2_expected.txt");

/// Meta-Llama-3-8B-Instruct's template.
const LLAMA3: &str = r#"{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>

'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>

' }}{% endif %}"#;

/// Qwen2.5-Instruct's template without its tool-call branches: multi-line, with `{%-`
/// whitespace control, attribute access and an undefined `tools`.
const QWEN25: &str = r#"{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- '<|im_end|>\n' }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"#;

/// Python string methods and block-trimming as transformers' environment does them.
const PYCOMPAT: &str = r#"{% for message in messages %}
  {% if message.content.startswith('/') %}
[{{ message.role.upper() }}] {{ message.content.split(' ')[1:] | join(',') }}
  {% else %}
[{{ message.role }}] {{ message.content.strip() }}|{{ message.content.replace('a', 'A') }}
  {% endif %}
{% endfor %}
{{ eos_token }}"#;

/// A Mistral-style role check.
const ALTERNATING: &str = r#"{{ bos_token }}{% for message in messages %}
{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
{% endif %}
{{ '[' + message['role'] + '] ' + message['content'] }}
{% endfor %}"#;

fn msg(role: &str, content: &str) -> ChatMessage {
    ChatMessage::new(role, content)
}

fn smollm2_conversation() -> Vec<ChatMessage> {
    vec![
        msg("system", "You are a concise assistant."),
        msg("user", "What is the capital of France?"),
    ]
}

fn smollm2() -> ChatTemplate {
    ChatTemplate::new(SMOLLM2_TEMPLATE, "<|im_start|>", "<|im_end|>").unwrap()
}

#[test]
fn smollm2_matches_jinja2_fixture() {
    let text = smollm2().render(&smollm2_conversation(), true).unwrap();
    assert_eq!(text, SMOLLM2_EXPECTED);
    // The same, derived by reading the template.
    assert_eq!(
        text,
        "<|im_start|>system\nYou are a concise assistant.<|im_end|>\n\
         <|im_start|>user\nWhat is the capital of France?<|im_end|>\n\
         <|im_start|>assistant\n"
    );
}

#[test]
fn smollm2_default_system_prompt_and_no_generation_prompt() {
    let text = smollm2()
        .render(&[msg("user", "Hi"), msg("assistant", "Hello!")], false)
        .unwrap();
    assert_eq!(
        text,
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n\
         <|im_start|>user\nHi<|im_end|>\n\
         <|im_start|>assistant\nHello!<|im_end|>\n"
    );
    assert_eq!(
        smollm2().render(&[], true).unwrap(),
        "<|im_start|>assistant\n"
    );
}

#[test]
fn llama3_template() {
    let template = ChatTemplate::new(LLAMA3, "<|begin_of_text|>", "<|eot_id|>").unwrap();
    let text = template
        .render(
            &[
                msg("system", "Be brief. "),
                msg("user", "  2+2?\n"),
                msg("assistant", "4"),
                msg("user", "3+3?"),
            ],
            true,
        )
        .unwrap();
    assert_eq!(
        text,
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>\
         <|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>\
         <|start_header_id|>user<|end_header_id|>\n\n3+3?<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\n"
    );
}

#[test]
fn qwen25_template() {
    let template = ChatTemplate::new(QWEN25, "", "<|im_end|>").unwrap();
    let text = template.render(&[msg("user", "Hello")], true).unwrap();
    assert_eq!(
        text,
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n\
         <|im_start|>user\nHello<|im_end|>\n\
         <|im_start|>assistant\n"
    );
    let text = template
        .render(
            &[
                msg("system", "Answer in French."),
                msg("user", "Hello"),
                msg("assistant", "Bonjour"),
            ],
            false,
        )
        .unwrap();
    assert_eq!(
        text,
        "<|im_start|>system\nAnswer in French.<|im_end|>\n\
         <|im_start|>user\nHello<|im_end|>\n\
         <|im_start|>assistant\nBonjour<|im_end|>\n"
    );
}

#[test]
fn python_methods_and_block_trimming() {
    let template = ChatTemplate::new(PYCOMPAT, "<s>", "</s>").unwrap();
    let text = template
        .render(
            &[msg("user", "  a banana \n"), msg("tool", "/run x y z")],
            false,
        )
        .unwrap();
    assert_eq!(text, "[user] a banana|  A bAnAnA \n\n[TOOL] x,y,z\n</s>");
}

#[test]
fn strftime_now_is_available() {
    let template = ChatTemplate::new(
        "{% if strftime_now is defined %}{{ strftime_now('%Y') | length }}{% endif %}",
        "",
        "",
    )
    .unwrap();
    assert_eq!(template.render(&[], false).unwrap(), "4");
}

#[test]
fn raise_exception_is_an_error_with_the_message() {
    let template = ChatTemplate::new(ALTERNATING, "<s>", "</s>").unwrap();
    assert_eq!(
        template
            .render(&[msg("user", "a"), msg("assistant", "b")], false)
            .unwrap(),
        "<s>[user] a\n[assistant] b\n"
    );
    let err = template
        .render(&[msg("user", "a"), msg("user", "b")], false)
        .unwrap_err();
    match &err {
        ChatError::Raised { line, message } => {
            assert_eq!(
                message,
                "Conversation roles must alternate user/assistant/user/assistant/..."
            );
            assert_eq!(*line, Some(3));
        }
        other => panic!("expected Raised, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "chat template raised an exception at line 3: \
         Conversation roles must alternate user/assistant/user/assistant/..."
    );
}

#[test]
fn syntax_errors_name_the_line() {
    let err = ChatTemplate::new(
        "{% for m in messages %}\n{{ m.content }\n{% endfor %}",
        "",
        "",
    )
    .unwrap_err();
    match &err {
        ChatError::Compile { line, detail } => {
            assert_eq!(*line, Some(2), "{detail}");
        }
        other => panic!("expected Compile, got {other:?}"),
    }
    assert!(err
        .to_string()
        .starts_with("chat template does not compile at line 2: syntax error"));
    let err = ChatTemplate::new("ok\n\n{% if x %}never closed", "", "").unwrap_err();
    assert!(matches!(err, ChatError::Compile { .. }), "{err:?}");
}

/// Renders `source` once with a short conversation; must fail within bounded heap work.
fn hostile(source: &str) -> ChatError {
    let template = ChatTemplate::new(source, "<s>", "</s>").unwrap();
    let conversation = smollm2_conversation();
    let (result, work) = measure(|| template.render(&conversation, true));
    assert_bounded(source, work);
    result.expect_err(source)
}

#[test]
fn huge_range_is_refused() {
    let err = hostile("{% for i in range(100000000) %}x{% endfor %}");
    assert!(matches!(err, ChatError::Render { .. }), "{err:?}");
    assert!(err.to_string().contains("range"), "{err}");
}

#[test]
fn nested_loops_run_out_of_fuel() {
    let err = hostile(
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    );
    assert!(matches!(err, ChatError::OutOfFuel { .. }), "{err:?}");
    assert!(err.to_string().contains("out of fuel"), "{err}");
    // Without output too: pure work is charged.
    let err = hostile(
        "{% for i in range(100000) %}{% for j in range(100000) %}{% set k = i - j %}{% endfor %}{% endfor %}",
    );
    assert!(matches!(err, ChatError::OutOfFuel { .. }), "{err:?}");
}

#[test]
fn deep_macro_recursion_is_refused() {
    let err = hostile("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
    assert!(matches!(err, ChatError::Render { .. }), "{err:?}");
    assert!(err.to_string().contains("recursion"), "{err}");
    // Mutual recursion through a recursive loop.
    let err = hostile("{% for m in [[1]] recursive %}{{ loop([m]) }}{% endfor %}");
    assert!(matches!(err, ChatError::Render { .. }), "{err:?}");
}

#[test]
fn huge_strings_are_refused_before_allocation() {
    let err = hostile("{{ 'x' * 1000000000 }}");
    assert!(
        matches!(err, ChatError::Render { .. } | ChatError::OutOfFuel { .. }),
        "{err:?}"
    );
    // Exponential growth by concatenation stops at the fuel budget.
    let err = hostile(
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
    );
    assert!(matches!(err, ChatError::OutOfFuel { .. }), "{err:?}");
}

#[test]
fn output_is_capped() {
    // 8 MiB of output in 100 KB pieces: within the fuel budget, past the 4 MiB cap.
    let err = hostile("{% for i in range(80) %}{{ 'x' * 100000 }}{% endfor %}");
    match err {
        ChatError::OutputTooLarge { limit } => assert!(limit >= 4 << 20, "{limit}"),
        other => panic!("expected OutputTooLarge, got {other:?}"),
    }
    assert!(hostile("{{ 'y' * 5000000 }}")
        .to_string()
        .contains("output exceeds the cap"));
}

#[test]
fn templates_cannot_load_other_templates() {
    for source in [
        "{% include '/etc/passwd' %}",
        "{% import 'other' as o %}",
        "{% extends 'base' %}",
    ] {
        let err = hostile(source);
        assert!(matches!(err, ChatError::Render { .. }), "{source}: {err:?}");
    }
}

#[test]
fn large_conversations_get_more_budget() {
    // 2000 messages of 1 KiB: about 2 MiB of content, rendered in full.
    let content = "z".repeat(1024);
    let messages: Vec<ChatMessage> = (0..2000)
        .map(|i| msg(if i % 2 == 0 { "user" } else { "assistant" }, &content))
        .collect();
    let text = smollm2().render(&messages, true).unwrap();
    assert!(text.len() > 2000 * 1024);
    assert!(text.ends_with("<|im_start|>assistant\n"));
}

/// chat_template fuzz target (a libFuzzer timeout): `seq * n` builds a lazy sequence of up
/// to 10^8 items in one instruction, and turning it into text ran for seconds before any
/// fuel was charged. Such templates are refused when they compile.
#[test]
fn repeating_a_sequence_is_refused_at_compile_time() {
    for source in [
        "{{ range(100000) * 1000 }}",
        "{{ (range(100000) * 1000) ~ '' }}",
        "{{ (range(100000) * 1000) | string | length }}",
        "{{ (range(100000) * 1000) | tojson | length }}",
        "{% for x in [1, 2] * 50000000 %}{% endfor %}",
        "{% set n = 1000 %}{{ messages * n }}",
    ] {
        assert_refused_at_line_1(source, "string literal");
    }
}

/// `source` fails to compile, within bounded heap work, at line 1, with an error that
/// mentions `needle`.
fn assert_refused_at_line_1(source: &str, needle: &str) {
    let (result, work) = measure(|| ChatTemplate::new(source, "<s>", "</s>"));
    assert_bounded(source, work);
    let err = result.expect_err(source);
    assert!(
        matches!(err, ChatError::Compile { line: Some(1), .. }),
        "{source}: {err:?}"
    );
    assert!(err.to_string().contains(needle), "{err}");
}

#[test]
fn strings_still_repeat() {
    let template = ChatTemplate::new("{{ '-' * 3 }}{{ 2 * 'ab' }}{{ 2 ** 3 }}", "", "").unwrap();
    assert_eq!(template.render(&[], false).unwrap(), "---abab8");
}

/// `a + a` chained ~25 times builds 10^8 lazy items for a few fuel, and turning them into
/// text (`~`, a string argument) is not metered: additions without a literal operand are
/// refused when the template compiles, at their line.
#[test]
fn concatenating_sequences_is_refused_at_compile_time() {
    for source in [
        "{% set a = range(100000) %}{% set a = a + a %}{{ a ~ '' }}",
        "{{ messages + messages }}",
        "{{ [1] + [2] }}",
        "{{ x + 'a b'.split() }}",
        "{{ x + 'ab' | list }}",
        "{{ ns.bos_token + x }}",
        "{% set bos_token = [1] %}{{ bos_token + bos_token }}",
        "{% for eos_token in [[1]] %}{{ eos_token + x }}{% endfor %}",
        "{{ a.0 + b }}",
    ] {
        assert_refused_at_line_1(source, "`+`");
    }
}

#[test]
fn additions_with_a_literal_or_special_token_still_work() {
    let source = "{%+ set s = bos_token + 'x' + eos_token %}{{ s + '!' }} {{ 1 + 2.5 }} \
                  {{ '<' + 'a' + '>' }} {{ 'ab' * 2 + 'c' }}{% set n = 2 %} {{ n + 1 }} \
                  {{ bos_token + eos_token }}{{ 3 +%}}";
    let template = ChatTemplate::new(source.trim_end_matches("{{ 3 +%}}"), "<s>", "</s>").unwrap();
    assert_eq!(
        template.render(&[], false).unwrap(),
        "<s>x</s>! 3.5 <a> ababc 3 <s></s>"
    );
}

/// Values too large to turn into text (here a list made from a long string) are refused by
/// printing, `| string` and `| tojson` without walking them.
#[test]
fn stringifying_a_huge_list_is_refused() {
    for tail in [
        "{{ a }}",
        "{{ [a] }}",
        "{{ a | string }}",
        "{{ a | tojson }}",
    ] {
        let source = format!("{{% set a = ('x' * 200000) | list %}}{tail}");
        let err = hostile(&source);
        assert!(matches!(err, ChatError::Render { .. }), "{err:?}");
        assert!(
            err.to_string().contains("refusing to turn into text"),
            "{err}"
        );
    }
    let small = "{% set a = [0, 1] + [2] %}{{ a }} {{ a | string }} {{ a | tojson }}";
    assert!(ChatTemplate::new(small, "", "").is_err());
    let small = "{% set a = 'ab' | list %}{{ a }} {{ a | string }} {{ a | tojson }}";
    let text = ChatTemplate::new(small, "", "")
        .unwrap()
        .render(&[], false)
        .unwrap();
    assert_eq!(text, r#"['a', 'b'] ['a', 'b'] ["a", "b"]"#);
}

/// What builds or walks large values without `*` and `+` is charged: each of these runs
/// out of fuel (the `hostile` helper also asserts it takes under 2 s).
#[test]
fn list_building_and_walking_is_charged() {
    for source in [
        "{% set a = ('x' * 10**7) | list %}{{ a | length }}",
        "{% set a = ('x ' * 5000000).split() %}{{ a | length }}",
        "{% set a = ('x ' * 5000000) | split %}{{ a | length }}",
        "{% set a = ('x\\n' * 5000000).splitlines() %}{{ a | length }}",
        "{% set a = ('x\\n' * 5000000) | lines %}{{ a | length }}",
        "{% set a = ('x,' * 5000000).split(',', 10000000) %}{{ a | length }}",
        "{% set a = ('x' * 400000) | list %}{% for i in range(100000) %}{% set s = a ~ '' %}{% endfor %}",
        "{% set a = ('x' * 50000) | list %}{% for i in range(100000) %}{% if 'q' in a %}{% endif %}{% endfor %}",
        "{% set a = ('x' * 50000) | list %}{% set b = ('x' * 50000) | list %}\
         {% for i in range(100000) %}{% if a == b %}{% endif %}{% endfor %}",
        "{% set a = ('x' * 50000) | list %}{% for i in range(100000) %}{% if (a | join).startswith('q') %}{% endif %}{% endfor %}",
    ] {
        let err = hostile(source);
        assert!(matches!(err, ChatError::OutOfFuel { .. }), "{source}: {err:?}");
    }
}

/// chat_template fuzz target (a panic): `+` followed by a string literal that ends the
/// template with a backslash made the guard slice one past the end.
#[test]
fn fuzz_crash_plus_then_trailing_backslash() {
    let data = include_bytes!("fixtures/chat/fuzz-crash-plus-backslash.bin");
    let source = String::from_utf8_lossy(data.split(|&b| b == 0).next().unwrap_or(data));
    let _ = ChatTemplate::new(&source, "<s>", "</s>");
}
