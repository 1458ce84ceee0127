import { describe, expect, it } from 'vitest';
import { parseAccounts, parseMovements, signedAmount } from '../../src/demo/berka.js';
import { TRANS_HEADER } from './fixtures.js';

describe('parseMovements', () => {
  it('types a line of the transactions file, amounts in hellers', () => {
    const row = [
      '637742',
      '2177',
      '930105',
      '"PRIJEM"',
      '"PREVOD Z UCTU"',
      '5123.00',
      '5923.00',
      '"DUCHOD"',
      '"YZ"',
      '"62457513"',
    ].join(';');
    const text = `${TRANS_HEADER}\n${row}\n`;

    expect(parseMovements(text)).toEqual([
      {
        transId: '637742',
        accountId: '2177',
        date: '1993-01-05',
        type: 'PRIJEM',
        direction: 'credit',
        amount: 512_300,
        balance: 592_300,
        operation: 'PREVOD Z UCTU',
        kSymbol: 'DUCHOD',
        bank: 'YZ',
        counterpartyAccount: '62457513',
        line: 2,
      },
    ]);
  });

  it('reads empty and blank fields as empty, and VYDAJ and VYBER as debits', () => {
    const text = [
      TRANS_HEADER,
      '1;1;930630;"VYDAJ";"VYBER";14.60;22827.00;"SLUZBY";;',
      '2;1;930630;"VYBER";"VYBER";100.00;-50.50;" ";"";""',
    ].join('\n');

    const [fee, withdrawal] = parseMovements(text);

    expect(fee).toMatchObject({ direction: 'debit', amount: 1_460, kSymbol: 'SLUZBY', bank: '' });
    expect(withdrawal).toMatchObject({ direction: 'debit', balance: -5_050, kSymbol: '' });
    expect(withdrawal?.counterpartyAccount).toBe('');
  });

  it('refuses an unknown type or a malformed amount, naming the line', () => {
    const badType = `${TRANS_HEADER}\n1;1;930101;"JINY";"VKLAD";1.00;1.00;"";;`;
    const badAmount = `${TRANS_HEADER}\n1;1;930101;"PRIJEM";"VKLAD";1.005;1.00;"";;`;

    expect(() => parseMovements(badType)).toThrow(/line 2: unknown type "JINY"/);
    expect(() => parseMovements(badAmount)).toThrow(/line 2: .*1\.005/);
  });

  it('refuses a file without a column it needs', () => {
    expect(() => parseMovements('"trans_id";"account_id"\n1;2\n')).toThrow(
      /line 2: no column "type"/,
    );
  });
});

describe('parseAccounts', () => {
  it('reads the accounts file, CRLF line ends included', () => {
    const text =
      '"account_id";"district_id";"frequency";"date"\r\n576;55;"POPLATEK MESICNE";930101\r\n';

    expect(parseAccounts(text)).toEqual([
      { accountId: '576', districtId: '55', frequency: 'POPLATEK MESICNE', opened: '1993-01-01' },
    ]);
  });
});

describe('signedAmount', () => {
  it('adds credits and subtracts debits', () => {
    expect(signedAmount({ direction: 'credit', amount: 500 })).toBe(500);
    expect(signedAmount({ direction: 'debit', amount: 500 })).toBe(-500);
  });
});
