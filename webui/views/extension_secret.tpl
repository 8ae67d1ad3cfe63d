% rebase('base.tpl', title=_('Extension'), back_path='/extensions')
<h1>{{_('Extension')}} {{ext.number}}</h1>
<p class="notice">{{note}}</p>
<p>{{_('SIP password (shown only now; write it into the phone):')}}</p>
<p><code class="secret" id="sip-password">{{password}}</code></p>
<p><a href="/extensions" id="back-to-list">{{_('Back to the list')}}</a></p>
