"""Reference completions of the tiny code problems, one per problem and language.

Each continues its prompt exactly as a model would have to: after the signature, up to the
point where the language's stop sequence cuts (C++, Java and Rust stop before the function's
closing brace, which the tests supply; R's prompt ends at ``{`` without a newline). Inner
blocks are indented, so no completion contains its language's stop sequence. In the source
each completion is a block that starts on the line after its opening quotes; `_block` drops
that first newline.
"""

from __future__ import annotations


def _block(text: str) -> str:
    """A completion written as a block: without the newline after its opening quotes."""
    if not text.startswith("\n"):
        raise ValueError(f"a completion block starts with a newline: {text[:40]!r}")
    return text[1:]


_SOURCE: dict[str, dict[str, str]] = {
    "sum_list": {
        "cpp": """
    long total = 0;
    for (long x : xs) {
        total += x;
    }
    return total;""",
        "go": """
    total := 0
    for _, x := range xs {
        total += x
    }
    return total
}""",
        "java": """
        long total = 0;
        for (long x : xs) {
            total += x;
        }
        return total;""",
        "js": """
  return xs.reduce((a, b) => a + b, 0);
}""",
        "php": """
    return array_sum($xs);
}""",
        "py": """
    return sum(xs)
""",
        "r": """

    sum(xs)
}""",
        "rb": """
  xs.sum
end""",
        "rs": """
    xs.iter().sum()""",
        "ts": """
  return xs.reduce((a, b) => a + b, 0);
}""",
    },
    "largest": {
        "cpp": """
    return *std::max_element(xs.begin(), xs.end());""",
        "go": """
    best := xs[0]
    for _, x := range xs {
        if x > best {
            best = x
        }
    }
    return best
}""",
        "java": """
        return Collections.max(xs);""",
        "js": """
  return Math.max(...xs);
}""",
        "php": """
    return max($xs);
}""",
        "py": """
    return max(xs)
""",
        "r": """

    max(xs)
}""",
        "rb": """
  xs.max
end""",
        "rs": """
    *xs.iter().max().unwrap()""",
        "ts": """
  return Math.max(...xs);
}""",
    },
    "count_even": {
        "cpp": """
    return std::count_if(xs.begin(), xs.end(), [](long x) { return x % 2 == 0; });""",
        "go": """
    count := 0
    for _, x := range xs {
        if x%2 == 0 {
            count++
        }
    }
    return count
}""",
        "java": """
        return xs.stream().filter(x -> x % 2 == 0).count();""",
        "js": """
  return xs.filter((x) => x % 2 === 0).length;
}""",
        "php": """
    return count(array_filter($xs, fn($x) => $x % 2 == 0));
}""",
        "py": """
    return sum(1 for x in xs if x % 2 == 0)
""",
        "r": """

    sum(xs %% 2 == 0)
}""",
        "rb": """
  xs.count { |x| x.even? }
end""",
        "rs": """
    xs.iter().filter(|x| *x % 2 == 0).count() as isize""",
        "ts": """
  return xs.filter((x) => x % 2 === 0).length;
}""",
    },
    "keep_greater": {
        "cpp": """
    std::vector<long> out;
    for (long x : xs) {
        if (x > limit) {
            out.push_back(x);
        }
    }
    return out;""",
        "go": """
    out := []int{}
    for _, x := range xs {
        if x > limit {
            out = append(out, x)
        }
    }
    return out
}""",
        "java": """
        ArrayList<Long> out = new ArrayList<Long>();
        for (long x : xs) {
            if (x > limit) {
                out.add(x);
            }
        }
        return out;""",
        "js": """
  return xs.filter((x) => x > limit);
}""",
        "php": """
    return array_values(array_filter($xs, fn($x) => $x > $limit));
}""",
        "py": """
    return [x for x in xs if x > limit]
""",
        "r": """

    xs[xs > limit]
}""",
        "rb": """
  xs.select { |x| x > limit }
end""",
        "rs": """
    xs.into_iter().filter(|x| *x > limit).collect()""",
        "ts": """
  return xs.filter((x) => x > limit);
}""",
    },
    "running_sum": {
        "cpp": """
    std::vector<long> out;
    long total = 0;
    for (long x : xs) {
        total += x;
        out.push_back(total);
    }
    return out;""",
        "go": """
    out := []int{}
    total := 0
    for _, x := range xs {
        total += x
        out = append(out, total)
    }
    return out
}""",
        "java": """
        ArrayList<Long> out = new ArrayList<Long>();
        long total = 0;
        for (long x : xs) {
            total += x;
            out.add(total);
        }
        return out;""",
        "js": """
  let total = 0;
  return xs.map((x) => (total += x));
}""",
        "php": """
    $out = array();
    $total = 0;
    foreach ($xs as $x) {
        $total += $x;
        $out[] = $total;
    }
    return $out;
}""",
        "py": """
    out, total = [], 0
    for x in xs:
        total += x
        out.append(total)
    return out
""",
        "r": """

    cumsum(xs)
}""",
        "rb": """
  total = 0
  xs.map { |x| total += x }
end""",
        "rs": """
    let mut total = 0;
    xs.iter().map(|x| { total += x; total }).collect()""",
        "ts": """
  let total = 0;
  return xs.map((x) => (total += x));
}""",
    },
    "digit_sum": {
        "cpp": """
    long total = 0;
    while (n > 0) {
        total += n % 10;
        n /= 10;
    }
    return total;""",
        "go": """
    total := 0
    for n > 0 {
        total += n % 10
        n /= 10
    }
    return total
}""",
        "java": """
        long total = 0;
        while (n > 0) {
            total += n % 10;
            n /= 10;
        }
        return total;""",
        "js": """
  return String(n).split("").reduce((a, c) => a + Number(c), 0);
}""",
        "php": """
    return array_sum(str_split(strval($n)));
}""",
        "py": """
    return sum(int(c) for c in str(n))
""",
        "r": """

    total <- 0
    while (n > 0) {
        total <- total + n %% 10
        n <- n %/% 10
    }
    total
}""",
        "rb": """
  n.digits.sum
end""",
        "rs": """
    n.to_string().chars().map(|c| c.to_digit(10).unwrap() as isize).sum()""",
        "ts": """
  return String(n).split("").reduce((a, c) => a + Number(c), 0);
}""",
    },
    "fizz_word": {
        "cpp": """
    if (n % 15 == 0) {
        return "fizzbuzz";
    }
    if (n % 3 == 0) {
        return "fizz";
    }
    if (n % 5 == 0) {
        return "buzz";
    }
    return std::to_string(n);""",
        "go": """
    if n%15 == 0 {
        return "fizzbuzz"
    }
    if n%3 == 0 {
        return "fizz"
    }
    if n%5 == 0 {
        return "buzz"
    }
    return fmt.Sprint(n)
}""",
        "java": """
        if (n % 15 == 0) {
            return "fizzbuzz";
        }
        if (n % 3 == 0) {
            return "fizz";
        }
        if (n % 5 == 0) {
            return "buzz";
        }
        return String.valueOf(n);""",
        "js": """
  if (n % 15 === 0) return "fizzbuzz";
  if (n % 3 === 0) return "fizz";
  if (n % 5 === 0) return "buzz";
  return String(n);
}""",
        "php": """
    if ($n % 15 == 0) return "fizzbuzz";
    if ($n % 3 == 0) return "fizz";
    if ($n % 5 == 0) return "buzz";
    return strval($n);
}""",
        "py": """
    if n % 15 == 0:
        return "fizzbuzz"
    if n % 3 == 0:
        return "fizz"
    if n % 5 == 0:
        return "buzz"
    return str(n)
""",
        "r": """

    if (n %% 15 == 0) return("fizzbuzz")
    if (n %% 3 == 0) return("fizz")
    if (n %% 5 == 0) return("buzz")
    as.character(n)
}""",
        "rb": """
  return "fizzbuzz" if n % 15 == 0
  return "fizz" if n % 3 == 0
  return "buzz" if n % 5 == 0
  n.to_s
end""",
        "rs": """
    if n % 15 == 0 {
        String::from("fizzbuzz")
    } else if n % 3 == 0 {
        String::from("fizz")
    } else if n % 5 == 0 {
        String::from("buzz")
    } else {
        n.to_string()
    }""",
        "ts": """
  if (n % 15 === 0) return "fizzbuzz";
  if (n % 3 === 0) return "fizz";
  if (n % 5 === 0) return "buzz";
  return String(n);
}""",
    },
    "count_letter": {
        "cpp": """
    return std::count(text.begin(), text.end(), letter[0]);""",
        "go": """
    count := 0
    for _, c := range text {
        if string(c) == letter {
            count++
        }
    }
    return count
}""",
        "java": """
        long count = 0;
        for (char c : text.toCharArray()) {
            if (c == letter.charAt(0)) {
                count++;
            }
        }
        return count;""",
        "js": """
  return text.split(letter).length - 1;
}""",
        "php": """
    return substr_count($text, $letter);
}""",
        "py": """
    return text.count(letter)
""",
        "r": """

    sum(strsplit(text, "")[[1]] == letter)
}""",
        "rb": """
  text.count(letter)
end""",
        "rs": """
    text.matches(letter.as_str()).count() as isize""",
        "ts": """
  return text.split(letter).length - 1;
}""",
    },
    "reverse_word": {
        "cpp": """
    return std::string(word.rbegin(), word.rend());""",
        "go": """
    runes := []rune(word)
    for i, j := 0, len(runes)-1; i < j; i, j = i+1, j-1 {
        runes[i], runes[j] = runes[j], runes[i]
    }
    return string(runes)
}""",
        "java": """
        return new StringBuilder(word).reverse().toString();""",
        "js": """
  return word.split("").reverse().join("");
}""",
        "php": """
    return strrev($word);
}""",
        "py": """
    return word[::-1]
""",
        "r": """

    paste(rev(strsplit(word, "")[[1]]), collapse = "")
}""",
        "rb": """
  word.reverse
end""",
        "rs": """
    word.chars().rev().collect()""",
        "ts": """
  return word.split("").reverse().join("");
}""",
    },
    "is_palindrome": {
        "cpp": """
    return text == std::string(text.rbegin(), text.rend());""",
        "go": """
    for i := 0; i < len(text)/2; i++ {
        if text[i] != text[len(text)-1-i] {
            return false
        }
    }
    return true
}""",
        "java": """
        return text.equals(new StringBuilder(text).reverse().toString());""",
        "js": """
  return text === text.split("").reverse().join("");
}""",
        "php": """
    return $text === strrev($text);
}""",
        "py": """
    return text == text[::-1]
""",
        "r": """

    text == paste(rev(strsplit(text, "")[[1]]), collapse = "")
}""",
        "rb": """
  text == text.reverse
end""",
        "rs": """
    text.chars().rev().collect::<String>() == text""",
        "ts": """
  return text === text.split("").reverse().join("");
}""",
    },
    "count_vowels": {
        "cpp": """
    long count = 0;
    for (char c : text) {
        if (std::string("aeiou").find(c) != std::string::npos) {
            count += 1;
        }
    }
    return count;""",
        "go": """
    count := 0
    for _, c := range text {
        if c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' {
            count++
        }
    }
    return count
}""",
        "java": """
        long count = 0;
        for (char c : text.toCharArray()) {
            if ("aeiou".indexOf(c) >= 0) {
                count++;
            }
        }
        return count;""",
        "js": """
  return text.split("").filter((c) => "aeiou".includes(c)).length;
}""",
        "php": """
    return preg_match_all('/[aeiou]/', $text);
}""",
        "py": """
    return sum(1 for c in text if c in "aeiou")
""",
        "r": """

    sum(strsplit(text, "")[[1]] %in% c("a", "e", "i", "o", "u"))
}""",
        "rb": """
  text.count("aeiou")
end""",
        "rs": """
    text.chars().filter(|c| "aeiou".contains(*c)).count() as isize""",
        "ts": """
  return text.split("").filter((c) => "aeiou".includes(c)).length;
}""",
    },
    "initials": {
        "cpp": """
    std::string out;
    for (size_t i = 0; i < name.size(); i++) {
        if (name[i] != ' ' && (i == 0 || name[i - 1] == ' ')) {
            out += name[i];
        }
    }
    return out;""",
        "go": """
    out := ""
    for i, c := range name {
        if c != ' ' && (i == 0 || name[i-1] == ' ') {
            out += string(c)
        }
    }
    return out
}""",
        "java": """
        String out = "";
        for (String word : name.split(" ")) {
            if (!word.isEmpty()) {
                out += word.charAt(0);
            }
        }
        return out;""",
        "js": """
  return name.split(" ").filter((w) => w.length > 0).map((w) => w[0]).join("");
}""",
        "php": """
    $out = "";
    foreach (explode(" ", $name) as $word) {
        if ($word !== "") {
            $out .= $word[0];
        }
    }
    return $out;
}""",
        "py": """
    return "".join(word[0] for word in name.split())
""",
        "r": """

    words <- strsplit(name, " ")[[1]]
    paste(substr(words[words != ""], 1, 1), collapse = "")
}""",
        "rb": """
  name.split(" ").map { |w| w[0] }.join
end""",
        "rs": """
    name.split(' ').filter(|w| !w.is_empty()).map(|w| &w[..1]).collect()""",
        "ts": """
  return name.split(" ").filter((w) => w.length > 0).map((w) => w[0]).join("");
}""",
    },
}
SOLUTIONS: dict[str, dict[str, str]] = {
    name: {lang: _block(text) for lang, text in langs.items()} for name, langs in _SOURCE.items()
}
