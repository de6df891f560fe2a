def slugify(name):
    words = []
    for word in name.lower().split():
        if not word.isalnum():
            continue
        words.append(word)
    return "-".join(words)


def first_long_word(name, length=5):
    for word in name.split():
        if len(word) > length:
            return word
    return None


def initials(name):
    parts = name.split()
    return "".join(part[0].upper() for part in parts if part)
