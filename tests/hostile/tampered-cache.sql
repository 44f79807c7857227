-- A forged cache entry, as an attacker with write access to the cache file would make it:
-- tests/test_hostile.py builds the entry for the shipped registry, applies this script, and
-- expects the output of a fresh parse: the entry is refused and rebuilt, never believed.
-- The figures are changed consistently in the record and the rank columns (so only
-- validation against arithmetic and the directory rule stand in the way), a name carries a
-- terminal escape, and a warning line retitles the window.
UPDATE records SET record = replace(record, '420000', '990000');
UPDATE by_funding SET low = 990000, mid = 990000, high = 990000, cell = '990000',
    cell_low = '990000', cell_mid = '990000', cell_high = '990000'
    WHERE position = (SELECT position FROM programmes WHERE slug = 'shared-purpose');
UPDATE records SET record = replace(record, '"Common Ambition"', '"Common' || char(27) || '[2J Ambition"');
UPDATE programmes SET name_cell = 'Common' || char(27) || '[2J Ambition' WHERE slug = 'common-ambition';
UPDATE programmes SET findings = '["' || char(27) || ']0;owned' || char(7) || '"]' WHERE slug = 'shared-purpose';
