"""awk: data-driven cases (program, input, output, status), errors, streaming."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kaish_kernel.scheduler.stage import CaptureOutput, InputStream
from kaish_kernel.tools.base import ToolContext
from kaish_kernel.tools.builtins._awk_value import format_number
from kaish_kernel.tools.builtins.awk import Awk, split_records
from kaish_kernel.tools.schema import bind
from tests.tool_harness import ErrorBuffer, FakeShell, run_tool, word_to_raw

# (id, words, stdin, expected stdout, expected status)
CASES = [
    # fields and records
    ("print-field", ["{print $2}"], "x y z\n", "y\n", 0),
    ("swap-fields", ["{print $2, $1}"], "hello world\n", "world hello\n", 0),
    ("print-all", ["{print}"], "a\nb\n", "a\nb\n", 0),
    ("default-action", ["/b/"], "a\nb\n", "b\n", 0),
    ("high-field", ["{print $10}"], "a b c d e f g h i j k l\n", "j\n", 0),
    ("computed-field", ["{print $(NF-1)}"], "a b c\n", "b\n", 0),
    ("last-field", ["{print $NF}"], "a b c\n", "c\n", 0),
    ("nr-nf", ["{print NR, NF}"], "a b c\nd e\n", "1 3\n2 2\n", 0),
    ("whitespace-split", ["{print $1 \"|\" $2}"], "  lead   trail  \n", "lead|trail\n", 0),
    ("tab-separated", ["{print $2}"], "a\tb\n", "b\n", 0),
    ("unicode-field", ["{print $2}"], "こんにちは 世界\n", "世界\n", 0),
    ("no-final-newline", ["{print $1}"], "10\n20\n30", "10\n20\n30\n", 0),
    ("crlf", ["{print $1 \"!\"}"], "a\r\nb\r\n", "a!\nb!\n", 0),
    ("empty-line-nf", ["{print NF}"], "\n", "0\n", 0),
    ("assign-field", ["{$2=\"X\"; print}"], "a b c\n", "a X c\n", 0),
    ("assign-field-ofs", ["BEGIN{OFS=\"-\"}{$1=$1; print}"], "a b c\n", "a-b-c\n", 0),
    ("assign-high-field", ["{$5=\"X\"; print NF; print}"], "a b\n", "5\na b   X\n", 0),
    ("assign-within-nf", ["{$2=\"B\"; print NF}"], "a b c\n", "3\n", 0),
    ("assign-record", ["{ $0 = \"x y z\"; print NF, $2 }"], "one two\n", "3 y\n", 0),
    ("set-nf-truncates", ["{NF=2; print}"], "a b c d\n", "a b\n", 0),
    ("nf-decrement", ["{NF--; print}"], "a b c\n", "a b\n", 0),
    ("field-increment", ["{$1++; print}"], "5 x\n", "6 x\n", 0),
    ("end-keeps-last-record", ["END{print NR, $0}"], "a\nb\n", "2 b\n", 0),
    # separators
    ("F-colon", ["-F:", "{print $1}"], "root:x:0:0\nuser:x:1000:1000\n", "root\nuser\n", 0),
    ("F-separate-word", ["-F", ";", "{print $2}"], "a;b;c\n", "b\n", 0),
    ("F-tab-escape", ["-F", "\\t", "{print $2}"], "a\tb c\n", "b c\n", 0),
    ("F-literal-pipe", ["-F", "|", "{print NF, $2}"], "a|b|c\n", "3 b\n", 0),
    ("F-bre-pipe-is-literal", ["-F", "\\|", "{print NF, $2}"], "a|b|c\n", "3 b\n", 0),
    ("F-dot-literal", ["-F.", "{print $2}"], "a.b.c\n", "b\n", 0),
    ("F-regex", ["--field-separator=[,;]+", "{print NF, $3}"], "a,;b;c\n", "3 c\n", 0),
    ("F-multichar-bre", ["--field-separator=--\\|;;", "{print NF, $3}"], "a--b;;c\n", "3 c\n", 0),
    ("FS-in-begin", ["BEGIN{FS=\",\"} {print $2}"], "a,b\n", "b\n", 0),
    ("FS-bre-pipe", ["BEGIN{FS=\"\\\\|\"} {print NF, $2}"], "a|b|c\n", "3 b\n", 0),
    ("FS-change-next-record", ["{FS=\",\"; print $1}"], "a,b c\nd,e f\n", "a,b\nd\n", 0),
    ("FS-empty-chars", ["BEGIN{FS=\"\"} {print NF, $2}"], "abc\n", "3 b\n", 0),
    ("F-empty-record", ["-F,", "{print NF}"], "\n", "0\n", 0),
    ("OFS-print", ["BEGIN {OFS=\",\"} {print $1, $2}"], "hello world\n", "hello,world\n", 0),
    ("ORS", ["BEGIN{ORS=\";\"} {print $1}"], "a\nb\n", "a;b;", 0),
    ("RS-char", ["BEGIN{RS=\";\"} {print NR\": \"$0}"], "a;b;c", "1: a\n2: b\n3: c\n", 0),
    ("RS-paragraph", ["BEGIN{RS=\"\"}{print NR\": \"$1\"/\"NF}"], "\n\na b\nc\n\n\nd e\n\n",
     "1: a/3\n2: d/2\n", 0),
    ("RS-regex", ["BEGIN{RS=\"--+\"}{print $0}"], "a--b----c", "a\nb\nc\n", 0),
    # patterns
    ("regex-pattern", ["/world/ {print \"found\"}"], "hello\nworld\nfoo\n", "found\n", 0),
    ("numeric-pattern", ["$1 > 20 {print $1}"], "10\n25\n30\n15\n", "25\n30\n", 0),
    ("condition-pattern", ["$2 > 26 {print $1}"], "alice 25\nbob 30\ncarol 35\n", "bob\ncarol\n", 0),
    ("nr-pattern", ["NR==1"], "first\nsecond\n", "first\n", 0),
    ("match-op", ["$1 ~ /^a/ {print $1}"], "alice\nbob\nanna\n", "alice\nanna\n", 0),
    ("not-match-op", ["$1 !~ /^a/ {print $1}"], "alice\nbob\nanna\n", "bob\n", 0),
    ("dynamic-regex", ["-v", "re=^b", "$0 ~ re"], "abc\nbcd\n", "bcd\n", 0),
    ("and-pattern", ["$1 > 0 && $1 < 10 {print \"single digit\"}"], "5\n15\n-3\n", "single digit\n", 0),
    ("or-pattern", ["/a/ || /c/"], "a\nb\nc\n", "a\nc\n", 0),
    ("not-regex", ["!/a/"], "a\nb\n", "b\n", 0),
    ("dedupe", ["!seen[$0]++"], "a\nb\na\nc\nb\n", "a\nb\nc\n", 0),
    ("range-regex", ["/bob/,/carol/"], "alice\nbob\ndave\ncarol\neve\n", "bob\ndave\ncarol\n", 0),
    ("range-one-record", ["/bob/,/carol/"], "alice\nbobcarol\neve\n", "bobcarol\n", 0),
    ("range-reopens", ["/bob/,/carol/"], "alice\nbob\ncarol\neve\nbob\nfoo\ncarol\ndone\n",
     "bob\ncarol\nbob\nfoo\ncarol\n", 0),
    ("range-expr", ["NR==2,NR==4"], "a\nb\nc\nd\ne\n", "b\nc\nd\n", 0),
    ("range-action", ["/bob/,/carol/ {print \">\" $0}"], "alice\nbob\ndave\ncarol\n",
     ">bob\n>dave\n>carol\n", 0),
    ("range-to-eof", ["/2/,/zzz/"], "1\n2\n3\n4\n", "2\n3\n4\n", 0),
    ("two-ranges", ["/1/,/2/{print} /3/,/4/{print}"], "1\n2\n3\n4\n5\n", "1\n2\n3\n4\n", 0),
    ("range-same-start-end", ["/3/,/3/"], "1\n2\n3\n4\n", "3\n", 0),
    ("rules-after-brace", ["/1/{print} /3/{print}"], "1\n2\n3\n", "1\n3\n", 0),
    ("bre-alternation-pattern", ["/cat\\|dog/ {print}"], "cat\ndog\nfish\n", "cat\ndog\n", 0),
    ("bre-alternation-match", ["{ if ($0 ~ /he\\|xy/) print \"match\" }"], "hello\n", "match\n", 0),
    ("posix-class", ["/^[[:digit:]]+$/"], "12\na1\n", "12\n", 0),
    ("regex-with-slash-class", ["/a[/]b/"], "a/b\nab\n", "a/b\n", 0),
    ("escaped-slash", ["/a\\/b/"], "a/b\n", "a/b\n", 0),
    # BEGIN / END / control flow
    ("begin-end", ["BEGIN {print \"start\"} {print} END {print \"end\"}"], "middle\n",
     "start\nmiddle\nend\n", 0),
    ("sum", ["{sum += $1} END {print sum}"], "10\n20\n30", "60\n", 0),
    ("sum-two", ["{a += $1; b += $2} END {print \"sum:\", a+b, \"diff:\", a-b}"], "10 3\n20 7\n",
     "sum: 40 diff: 20\n", 0),
    ("begin-only-no-input", ["BEGIN {print 1}"], "ignored\n", "1\n", 0),
    ("if-else", ["{if ($1 > 0) print \"pos\"; else print \"neg\"}"], "5\n-3\n", "pos\nneg\n", 0),
    ("if-else-blocks", ["{ if ($1) { print \"t\" } else { print \"f\" } }"], "1\n0\n", "t\nf\n", 0),
    ("if-newline-else", ["{ if ($1)\n print \"t\"\n else\n print \"f\" }"], "0\n", "f\n", 0),
    ("for-loop", ["BEGIN {for (i=1; i<=3; i++) print i}"], "", "1\n2\n3\n", 0),
    ("for-division", ["BEGIN{ for(i=0; i<10/2; i++) s=s i; print s }"], "", "01234\n", 0),
    ("while-loop", ["BEGIN {i=1; while (i<=3) {print i; i++}}"], "", "1\n2\n3\n", 0),
    ("do-while", ["BEGIN {i=5; do { print i; i++ } while (i < 3)}"], "", "5\n", 0),
    ("break-continue", ["BEGIN{for(i=0;i<10;i++){if(i==2)continue; if(i==4)break; print i}}"], "",
     "0\n1\n3\n", 0),
    ("for-in", ["{c[$1]++} END {for (k in c) print k, c[k]}"], "a\nb\na\n", "a 2\nb 1\n", 0),
    ("in-operator", ["BEGIN{a[\"x\"]=1; print (\"x\" in a), (\"y\" in a)}"], "", "1 0\n", 0),
    ("delete-element", ["BEGIN{a[1]=1;a[2]=2; delete a[1]; print length(a), (1 in a)}"], "", "1 0\n", 0),
    ("delete-array", ["BEGIN{a[1]=1;a[2]=2; delete a; print length(a)}"], "", "0\n", 0),
    ("array-lookup", ["{a[$1]=$2} END {print a[\"bob\"]}"], "alice 25\nbob 30\n", "30\n", 0),
    ("next", ["$1 == \"skip\" {next} {print}"], "keep\nskip\nalso keep\n", "keep\nalso keep\n", 0),
    ("exit-stops", ["{if (NR == 2) exit; print}"], "line1\nline2\nline3\n", "line1\n", 0),
    ("exit-code", ["BEGIN { exit 3 }"], "", "", 3),
    ("exit-runs-end", ["{ exit 2 } END { print \"end ran\" }"], "x\n", "end ran\n", 2),
    ("bare-exit-keeps-code", ["BEGIN { exit 7 } END { exit }"], "", "", 7),
    ("exit-in-end", ["END { exit 4; print \"no\" }"], "", "", 4),
    ("semicolons", ["{a = $1; b = $2; print b, a}"], "hello world\n", "world hello\n", 0),
    ("ternary", ["{print ($1 > 0 ? \"pos\" : \"neg\")}"], "5\n-3\n", "pos\nneg\n", 0),
    ("chained-assign", ["BEGIN{a = b = 2; print a + b}"], "", "4\n", 0),
    ("assign-in-condition", ["{ if ((n = split($0, p, \",\")) > 1) print n }"], "a,b\nc\n", "2\n", 0),
    ("compound-assign", ["BEGIN{x=10; x-=3; x*=2; x/=7; x%=3; x^=3; print x}"], "", "8\n", 0),
    ("increments", ["BEGIN{i=1; print i++, i, ++i, i--, --i}"], "", "1 2 3 3 1\n", 0),
    ("comment", ["# comment\n{ print $1 } # trailing"], "a b\n", "a\n", 0),
    ("line-continuation", ["BEGIN { x = 1 + \\\n 2; print x }"], "", "3\n", 0),
    ("getline-free-multiline", ["BEGIN {\n  n = 0\n}\n{ n++ }\nEND { print n }"], "a\nb\n", "2\n", 0),
    ("regex-after-semicolon", ["{ x=1; if (/3/) print \"hit\" }"], "3\n4\n", "hit\n", 0),
    # values and comparisons
    ("strnum-numeric", ["{ if ($1 > 9) print \"GT\"; else print \"LE\" }"], "10\n", "GT\n", 0),
    ("strnum-filter", ["$1 > 5 { print $1 }"], "3\n10\n7\n4\n", "10\n7\n", 0),
    ("strnum-bool", ["{ print ($1 > 9) }"], "10\n", "1\n", 0),
    ("strnum-zero", ["{ print ($1 == 0) }"], "0\n0.0\nabc\n", "1\n1\n0\n", 0),
    ("strnum-vs-string", ["{ print ($1 > \"9\") }"], "10\n", "0\n", 0),
    ("string-vs-zero", ["BEGIN { print (\"abc\" == 0) }"], "", "0\n", 0),
    ("string-constants", ["BEGIN { print (\"10\" < \"9\") }"], "", "1\n", 0),
    ("two-fields", ["{ if ($1 > $2) print \"GT\"; else print \"LE\" }"], "10 9\n", "GT\n", 0),
    ("v-strnum", ["-v", "threshold=5", "$1 > threshold { print $1 }"], "3\n10\n7\n4\n", "10\n7\n", 0),
    ("absent-field-string", ["{ print ($5 == 0), ($5 == \"\") }"], "a b\n", "0 1\n", 0),
    ("uninit-compare", ["BEGIN { print (x == 0), (x == \"\"), length(x) }"], "", "1 1 0\n", 0),
    ("strnum-truthy", ["{ print ($0 ? \"t\" : \"f\") }"], "0\n0.0\n \nx\n", "f\nf\nt\nt\n", 0),
    ("leading-number", ["{ print $1 + 0 }"], "12abc\n3.5e1x\n.5\nx\n", "12\n35\n0.5\n0\n", 0),
    ("concat", ["{print $1 $2}"], "hello world\n", "helloworld\n", 0),
    ("concat-number", ["BEGIN{x = 1 2; print x + 1}"], "", "13\n", 0),
    ("number-format", ["BEGIN{print 1/3, 2^10, 3.14159265, 0.1+0.2, 1e20, -1/3, 0.0000001}"], "",
     "0.333333 1024 3.14159 0.3 100000000000000000000 -0.333333 1e-07\n", 0),
    ("number-format-large", ["BEGIN{print 100000000000000000, 123456.789, 1234567.89}"], "",
     "100000000000000000 123457 1.23457e+06\n", 0),
    ("non-finite", ["BEGIN{print 2^1024, -2^1024, sqrt(-1)}"], "", "+inf -inf -nan\n", 0),
    ("unary-minus-power", ["BEGIN{print -2^2, 2^3^2}"], "", "-4 512\n", 0),
    ("modulo", ["BEGIN{print 7%3, -7%3}"], "", "1 -1\n", 0),
    ("ofmt", ["BEGIN{OFMT=\"%.2f\"; print 3.14159; x = 3.14159 \"\"; print x}"], "", "3.14\n3.14159\n", 0),
    ("convfmt", ["BEGIN{CONVFMT=\"%.2f\"; x = 3.14159 \"\"; print x}"], "", "3.14\n", 0),
    ("print-ge-compares", ["{print 1>=2, 2>=1}"], "x\n", "0 1\n", 0),
    ("print-paren-gt", ["{print ($1>2)}"], "5\n1\n", "1\n0\n", 0),
    ("print-call-gt", ["{print substr($1, 1, 2>1)}"], "hello\n", "h\n", 0),
    ("print-paren-ternary", ["{print (1 ? 3>2 : 0)}"], "x\n", "1\n", 0),
    ("print-parenthesized-list", ["{print($2, $1)}"], "a b\n", "b a\n", 0),
    ("print-grouping-concat", ["{print (1)(2)}"], "x\n", "12\n", 0),
    # built-in functions
    ("length", ["{print length($1)}"], "hello\n", "5\n", 0),
    ("length-bare", ["{print length}"], "hello\n", "5\n", 0),
    ("length-unicode", ["{print length}"], "こんにちは\n", "5\n", 0),
    ("length-empty-parens", ["{print length()}"], "hello\n", "5\n", 0),
    ("length-array", ["BEGIN { a[1]=1; a[2]=2; a[3]=3; print length(a) }"], "", "3\n", 0),
    ("substr", ["{print substr($1, 2, 3)}"], "hello\n", "ell\n", 0),
    ("substr-to-end", ["{print substr($0, 2)}"], "hello\n", "ello\n", 0),
    ("substr-clipped", ["{print substr($0, 0, 2) \"|\" substr($0, -1) \"|\" substr($0, 4, 99)}"],
     "hello\n", "h|hello|lo\n", 0),
    ("index", ["{print index($1, \"ll\"), index($1, \"z\")}"], "hello\n", "3 0\n", 0),
    ("case", ["{print tolower($1), toupper($2)}"], "HELLO world\n", "hello WORLD\n", 0),
    ("int", ["BEGIN{print int(3.9), int(-3.9), int(\"42abc\")}"], "", "3 -3 42\n", 0),
    ("sqrt", ["BEGIN{print sqrt(2), sqrt(4)}"], "", "1.41421 2\n", 0),
    ("split-comma", ["BEGIN{n=split(\"a,b,c\",x,\",\"); print n, x[1], x[3]}"], "", "3 a c\n", 0),
    ("split-default", ["BEGIN{n=split(\"  foo  bar  baz  \",x); print n, x[1], x[2]}"], "",
     "3 foo bar\n", 0),
    ("split-regex-string", ["BEGIN{n=split(\"one12two34three\",x,\"[0-9]+\"); print n, x[3]}"], "",
     "3 three\n", 0),
    ("split-regex-literal", ["BEGIN{n=split(\"a1b22c\",x,/[0-9]+/); print n, x[2]}"], "", "3 b\n", 0),
    ("split-clears", ["BEGIN{x[99]=\"old\"; n=split(\"a,b\",x,\",\"); print (99 in x), x[1], x[2]}"],
     "", "0 a b\n", 0),
    ("split-empty", ["BEGIN{n=split(\"\",a,\",\"); print n, (1 in a)}"], "", "0 0\n", 0),
    ("split-bre-pipe", ["{n = split(\"a|b|c\", parts, \"\\\\|\"); print n, parts[2]}"], "x\n", "3 b\n", 0),
    ("split-strnum", ["BEGIN{split(\"10 9\", a); print (a[1] > a[2])}"], "", "1\n", 0),
    ("sub-first", ["BEGIN{s=\"foo bar foo\"; n=sub(/foo/,\"baz\",s); print n, s}"], "",
     "1 baz bar foo\n", 0),
    ("sub-no-match", ["BEGIN{s=\"hello\"; n=sub(/xyz/,\"A\",s); print n, s}"], "", "0 hello\n", 0),
    ("gsub-count", ["{n=gsub(/o/,\"0\"); print n, $0}"], "foo\n", "2 f00\n", 0),
    ("gsub-ampersand", ["BEGIN{s=\"foo\"; gsub(/o/,\"[&]\",s); print s}"], "", "f[o][o]\n", 0),
    ("gsub-escaped-ampersand", ["BEGIN{s=\"foo\"; gsub(/o/,\"\\\\&\",s); print s}"], "", "f&&\n", 0),
    ("gsub-field", ["{gsub(/a/,\"A\",$1); print}"], "alice adam\n", "Alice adam\n", 0),
    ("gsub-field-no-match-keeps-spacing", ["{gsub(/z/,\"Z\",$1); print}"], "a  b\n", "a  b\n", 0),
    ("gsub-high-field", ["{gsub(/./,\"X\",$5); print NF}"], "a b\n", "5\n", 0),
    ("gsub-empty-regex", ["{gsub(//,\"-\"); print}"], "abc\n", "-a-b-c-\n", 0),
    ("gsub-star", ["{n=gsub(/x*/,\"-\"); print n, $0}"], "abc\n", "4 -a-b-c-\n", 0),
    ("gsub-bre", ["{gsub(/cat\\|dog/, \"X\"); print}"], "cat dog fish\n", "X X fish\n", 0),
    ("gsub-string-regex", ["{gsub(\"[0-9]\", \"#\"); print}"], "a1b2\n", "a#b#\n", 0),
    ("sub-double-amp", ["{sub(/o/,\"&&\"); print}"], "foo\n", "fooo\n", 0),
    ("sub-delete", ["{gsub(/o/,\"\"); print}"], "food\n", "fd\n", 0),
    ("sub-lone-backslash", ["BEGIN{s=\"foo\"; sub(/o/,\"\\\\\",s); print s}"], "", "f\\o\n", 0),
    ("sub-backslash-amp", ["BEGIN{s=\"foo\"; sub(/o/,\"\\\\\\\\&\",s); print s}"], "", "f\\oo\n", 0),
    ("sub-other-escape", ["BEGIN{s=\"foo\"; sub(/o/,\"\\\\x\",s); print s}"], "", "f\\xo\n", 0),
    ("sub-array", ["BEGIN{a[1]=\"xx\"; gsub(/x/,\"y\",a[1]); print a[1]}"], "", "yy\n", 0),
    ("match-hit", ["BEGIN{match(\"foobar\",/bar/); print RSTART, RLENGTH}"], "", "4 3\n", 0),
    ("match-miss", ["BEGIN{match(\"foobar\",/xyz/); print RSTART, RLENGTH}"], "", "0 -1\n", 0),
    ("match-return", ["BEGIN{pos=match(\"foobar\",/bar/); print pos}"], "", "4\n", 0),
    ("match-substr", ["BEGIN{s=\"hello world\"; match(s,/wor/); print substr(s,RSTART,RLENGTH)}"], "",
     "wor\n", 0),
    ("sprintf", ["{print sprintf(\"%s is %d\", $1, $2)}"], "answer 42\n", "answer is 42\n", 0),
    ("printf", ["{printf \"%s: %d\\n\", $1, $2}"], "count 42\n", "count: 42\n", 0),
    ("printf-width", ["{printf \"%10s|\\n\", $1}"], "hello\n", "     hello|\n", 0),
    ("printf-left", ["{printf \"%-10s|\", $1}"], "hi\n", "hi        |", 0),
    ("printf-zero-pad", ["{printf \"%06d\", $1}"], "42\n", "000042", 0),
    ("printf-parens", ["{printf(\"%d-%d\\n\", $1, $2)}"], "1 2\n", "1-2\n", 0),
    ("printf-conversions", ["BEGIN{printf \"%5.2f|%e|%x|%X|%o|%c|%c|%%|%i|%u\\n\", 3.14159, 1234.5, 255, 255, 8, 65, \"hi\", 7.9, 3}"],
     "", " 3.14|1.234500e+03|ff|FF|10|A|h|%|7|3\n", 0),
    ("printf-star", ["BEGIN{printf \"%*d|%-*s|%.*f\\n\", 5, 42, 4, \"ab\", 2, 3.14159}"], "",
     "   42|ab  |3.14\n", 0),
    ("printf-missing-args", ["BEGIN{printf \"%s|%d|\\n\"}"], "", "|0|\n", 0),
    ("printf-precision-string", ["BEGIN{printf \"%.2s\\n\", \"hello\"}"], "", "he\n", 0),
    ("printf-negative-hex", ["BEGIN{printf \"%x\\n\", -1}"], "", "ffffffffffffffff\n", 0),
    ("string-escapes", ["BEGIN{print \"a\\tb\\\\c\\\"d\\101\"}"], "", "a\tb\\c\"dA\n", 0),
    ("fflush", ["{print; fflush()}"], "a\n", "a\n", 0),
    # -v and operands
    ("v-multiple", ["-v", "a=1", "-v", "b=2", "BEGIN { print a, b }"], "", "1 2\n", 0),
    ("v-escapes", ["-v", "s=a\\tb", "BEGIN { print s }"], "", "a\tb\n", 0),
    ("v-long", ["--var=x=hi", "BEGIN { print x }"], "", "hi\n", 0),
    ("operand-assignment", ["{print x, $0}", "x=1", "-"], "a\n", "1 a\n", 0),
    ("filename-stdin", ["{print FILENAME \"|\" FNR}"], "a\n", "|1\n", 0),
    ("program-as-number", ["1"], "a\nb\n", "a\nb\n", 0),
]


@pytest.mark.parametrize(
    ("words", "stdin", "expected", "status"),
    [pytest.param(w, i, e, s, id=name) for name, w, i, e, s in CASES],
)
def test_awk_cases(words: list[str], stdin: str, expected: str, status: int) -> None:
    result = run_tool(Awk, *words, stdin=stdin.encode())
    assert (result.out, result.code) == (expected, status), result.stderr
    assert result.stderr == ""


# (id, words, stdin, substrings of stderr, forbidden substring) — exit 1, nothing printed
ERRORS = [
    ("syntax", ["{print"], "x\n", ["awk:", "missing '}'"], None),
    ("unterminated-string", ["{print \"a}"], "x\n", ["unterminated string"], None),
    ("unexpected-token", ["{print )}"], "x\n", ["syntax error"], None),
    ("redirect-gt", ["{print $1 > \"f\"}"], "hello\nworld\n", ["redirection"], None),
    ("redirect-append", ["{print x>>\"f\"}"], "x\n", ["redirection"], None),
    ("redirect-bare-gt", ["{print 1>2}"], "x\n", ["redirection"], None),
    ("redirect-pipe", ["{print | \"sort\"}"], "x\n", ["redirection"], None),
    ("printf-redirect", ["{printf \"%s\\n\", $1 > \"f\"}"], "hello\n", ["redirection"], None),
    ("getline", ["{getline}"], "x\n", ["getline", "not supported"], None),
    ("getline-var", ["{getline x}"], "x\n", ["getline", "not supported"], None),
    ("cmd-getline", ["{\"date\" | getline d}"], "x\n", ["getline", "not supported"], None),
    ("function", ["function f(){return 1}"], "", ["user-defined functions"], None),
    ("return", ["{return 1}"], "x\n", ["user-defined functions"], None),
    ("user-call", ["{print f(1)}"], "x\n", ["unknown function f()"], None),
    ("multi-subscript", ["BEGIN{a[1,2]=3; print a[1,2]}"], "", ["multi-dimensional"], None),
    ("multi-in", ["BEGIN{if ((1,2) in a) print}"], "", ["multi-dimensional"], None),
    ("subsep", ["BEGIN{print SUBSEP}"], "", ["a[i,j]"], None),
    ("sin", ["BEGIN{print sin(1)}"], "", ["awk: sin() is not supported", "int and sqrt"], "awk: awk:"),
    ("cos", ["BEGIN{print cos(0)}"], "", ["not supported", "int and sqrt"], None),
    ("rand", ["BEGIN{srand(); print rand()}"], "", ["not supported"], None),
    ("system", ["BEGIN{system(\"ls\")}"], "", ["system() is not supported"], None),
    ("environ", ["BEGIN{print ENVIRON[\"HOME\"]}"], "", ["ENVIRON", "-v NAME=VALUE"], None),
    ("argv", ["BEGIN{print ARGV[0]}"], "", ["ARGV"], None),
    ("begin-range", ["BEGIN,/foo/"], "", ["BEGIN and END may not be used as range"], None),
    ("begin-without-action", ["BEGIN"], "", ["action"], None),
    ("next-in-begin", ["BEGIN{next}"], "", ["next is not allowed"], None),
    ("break-outside-loop", ["{break}"], "x\n", ["not inside a loop"], None),
    ("array-as-scalar", ["{a[1]=1; print a}"], "x\n", ["array a in a scalar context"], None),
    ("bad-arity", ["{print substr($0)}"], "x\n", ["substr() takes 2 to 3"], None),
    ("division-by-zero", ["{print 1/0}"], "x\n", ["division by zero"], None),
    ("modulo-by-zero", ["{print 1%0}"], "x\n", ["division by zero"], None),
    ("negative-field", ["{print $(-1)}"], "x\n", ["field -1"], None),
    ("bad-regex-literal", ["/a\\)/ {print}"], "x\n", ["GNU BRE", "[)]"], "-E"),
    ("bad-dynamic-regex", ["{ if ($0 ~ \"(\") print }"], "x\n", ["invalid regex"], None),
    ("bad-fs", ["-F", "a[", "{ print NF }"], "xa[y\n", ["invalid FS regex"], None),
    ("bad-fs-named-raw", ["-F", "xx\\(", "{print NF}"], "x\n", ["xx\\\\(", "GNU BRE"], "-E"),
    ("bad-split-sep", ["BEGIN { n = split(\"xa[y\", arr, \"a[\"); print n }"], "", ["split() separator"], None),
    ("bad-split-sep-raw", ["{n = split(\"abc\", a, \"yy\\\\(\"); print n}"], "x\n", ["yy\\\\(", "GNU BRE"], "-E"),
    ("backreference", ["/(a)\\1/"], "aa\n", ["backreference"], None),
    ("bad-v", ["-v", "oops", "BEGIN{}"], "", ["-v: invalid assignment"], None),
    ("huge-field", ["{$1e9 = 1}"], "x\n", ["too large"], None),
    ("huge-nf", ["{NF = 1e9}"], "x\n", ["NF set to"], None),
    ("deep-nesting", ["BEGIN{print " + "(" * 5000 + "1" + ")" * 5000 + "}"], "", ["nested too deeply"], None),
]


@pytest.mark.parametrize(
    ("words", "stdin", "needles", "forbidden"),
    [pytest.param(w, i, n, f, id=name) for name, w, i, n, f in ERRORS],
)
def test_awk_errors(words: list[str], stdin: str, needles: list[str], forbidden: str | None) -> None:
    result = run_tool(Awk, *words, stdin=stdin.encode())
    assert result.code == 1, (result.out, result.stderr)
    assert result.out == ""
    for needle in needles:
        assert needle in result.stderr
    if forbidden:
        assert forbidden not in result.stderr


def test_missing_program() -> None:
    result = run_tool(Awk)
    assert result.code == 1 and "missing program" in result.stderr


def test_binary_input_is_refused() -> None:
    result = run_tool(Awk, "{print}", stdin=b"ok\n\xff\n")
    assert result.code == 1 and "invalid UTF-8" in result.stderr


def test_json_output_is_one_string() -> None:
    result = run_tool(Awk, "{print $1}", "--json", stdin=b"a b\nc d\n")
    assert result.is_value and result.data == "a\nc\n"


def test_runtime_error_keeps_earlier_output() -> None:
    result = run_tool(Awk, "{print; if (NR == 2) x = 1/0}", stdin=b"a\nb\nc\n")
    assert result.code == 1 and result.out == "a\nb\n"


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1.0 / 3.0, "0.333333"), (1024.0, "1024"), (3.14159265, "3.14159"), (0.1 + 0.2, "0.3"),
        (1e17, "100000000000000000"), (1e20, "100000000000000000000"), (2.0**0.5, "1.41421"),
        (-1.0 / 3.0, "-0.333333"), (1e-7, "1e-07"), (123456.789, "123457"), (0.0, "0"),
        (1e6, "1000000"), (999999.5, "1e+06"), (1e-5, "1e-05"), (0.000099, "9.9e-05"),
        (1234567.89, "1.23457e+06"), (-0.0, "0"), (-1e-7, "-1e-07"),
        (float("nan"), "-nan"), (float("inf"), "+inf"), (float("-inf"), "-inf"),
    ],
)
def test_number_formatting(number: float, text: str) -> None:
    assert format_number(number) == text


@pytest.mark.parametrize(
    ("buffer", "separator", "eof", "records", "rest"),
    [
        ("a\nb\nc", "\n", False, ["a", "b"], "c"),
        ("a\nb\nc", "\n", True, ["a", "b", "c"], ""),
        ("a\r\nb\r\n", "\n", True, ["a", "b"], ""),
        ("a;b;", ";", True, ["a", "b"], ""),
        ("\n\na\nb\n\n\nc", "", False, ["a\nb"], "c"),
        ("a\n\n", "", False, [], "a\n\n"),
        ("a\n\n", "", True, ["a"], ""),
        ("a--b--", "--+", False, ["a"], "b--"),
        ("", "\n", True, [], ""),
    ],
)
def test_split_records(
    buffer: str, separator: str, eof: bool, records: list[str], rest: str
) -> None:
    assert split_records(buffer, separator, eof) == (records, rest)


# ---------------------------------------------------------------- files


def test_reads_files_in_order_with_fnr_and_filename(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("1\n2\n")
    (tmp_path / "b.txt").write_text("3\n")
    result = run_tool(
        Awk, "{print FILENAME, FNR, NR, $0}", "a.txt", "b.txt", shell=FakeShell(cwd_path=str(tmp_path))
    )
    assert result.out == "a.txt 1 1 1\na.txt 2 2 2\nb.txt 1 3 3\n"


def test_field_separator_on_a_file(tmp_path: Path) -> None:
    (tmp_path / "pw.txt").write_text("root:x:0:0\nuser:x:1000:1000\n")
    result = run_tool(Awk, "-F:", "{print $1}", "pw.txt", shell=FakeShell(cwd_path=str(tmp_path)))
    assert result.out == "root\nuser\n"


def test_missing_file_is_reported_and_others_still_read(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("x\n")
    result = run_tool(Awk, "{print}", "nope", "a", shell=FakeShell(cwd_path=str(tmp_path)))
    assert result.code == 2
    assert "nope: not found" in result.stderr
    assert result.out == "x\n"


# ---------------------------------------------------------------- streaming


class EndlessInput(InputStream):
    def __init__(self, block: bytes = b"y 1\n" * 1000) -> None:
        self.block = block
        self.reads = 0
        self.closed = False

    async def read(self, n: int = 65536) -> bytes:
        self.reads += 1
        await asyncio.sleep(0)
        return self.block

    def close(self) -> None:
        self.closed = True


@pytest.mark.timeout(10)
def test_exit_returns_on_endless_input() -> None:
    source = EndlessInput()
    result = run_tool(Awk, "NR == 3 {exit} {print $1}", stdin=source)
    assert (result.code, result.out) == (0, "y\ny\n")
    assert source.reads <= 3 and source.closed


class ClosedReader(CaptureOutput):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    async def write(self, data: bytes) -> None:
        self.writes += 1
        raise BrokenPipeError("reader left")


@pytest.mark.timeout(10)
def test_endless_begin_output_stops_when_the_reader_leaves() -> None:
    async def scenario() -> tuple[int, int]:
        out = ClosedReader()
        ctx = ToolContext(
            name="awk",
            args=bind(Awk.schema, [word_to_raw("BEGIN { while (1) print \"y\" }")]),
            stdin=EndlessInput(),
            stdout=out,
            stderr=ErrorBuffer(),
            shell=FakeShell(),
        )
        return await Awk().run(ctx), out.writes

    code, writes = asyncio.run(scenario())
    assert code == 0 and writes == 1


class TrickleInput(InputStream):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    async def read(self, n: int = 65536) -> bytes:
        return await self.queue.get()


def _context(program: str, stdin: InputStream, stdout: CaptureOutput) -> ToolContext:
    return ToolContext(
        name="awk",
        args=bind(Awk.schema, [word_to_raw(program)]),
        stdin=stdin,
        stdout=stdout,
        stderr=ErrorBuffer(),
        shell=FakeShell(),
    )


@pytest.mark.timeout(10)
def test_output_streams_before_eof() -> None:
    async def scenario() -> None:
        source, out = TrickleInput(), CaptureOutput()
        task = asyncio.create_task(Awk().run(_context("{print NR \": \" $1}", source, out)))
        await source.queue.put(b"a\nb\n")
        for _ in range(200):
            if out.getvalue():
                break
            await asyncio.sleep(0.01)
        assert out.getvalue() == b"1: a\n2: b\n"
        await source.queue.put(b"c\n")
        await source.queue.put(b"")
        assert await task == 0
        assert out.getvalue() == b"1: a\n2: b\n3: c\n"

    asyncio.run(scenario())


@pytest.mark.timeout(10)
def test_cancellation_stops_a_busy_program() -> None:
    async def scenario() -> None:
        out = CaptureOutput()
        task = asyncio.create_task(
            Awk().run(_context("BEGIN { while (1) x++ }", TrickleInput(), out))
        )
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


@pytest.mark.timeout(10)
def test_cancellation_while_waiting_for_input() -> None:
    async def scenario() -> None:
        out = CaptureOutput()
        task = asyncio.create_task(Awk().run(_context("{print}", TrickleInput(), out)))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


def test_large_input() -> None:
    lines = "".join(f"k{i % 7} {i}\n" for i in range(30_000))
    result = run_tool(Awk, "{s[$1] += $2} END {for (k in s) print k, s[k]}", stdin=lines.encode())
    expected = {f"k{j}": sum(i for i in range(30_000) if i % 7 == j) for j in range(7)}
    got = dict(line.split() for line in result.out.splitlines())
    assert got == {k: str(v) for k, v in expected.items()}
